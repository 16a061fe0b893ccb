"""A payment or refund stream: once recorded, the same reference again records nothing."""

from __future__ import annotations

from functools import singledispatch

import msgspec

from domain.payment.events import PaymentEvent, PaymentRecorded, RefundRecorded


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    payment: PaymentRecorded | None = None
    refund: RefundRecorded | None = None

    @property
    def exists(self) -> bool:
        return self.payment is not None or self.refund is not None


@singledispatch
def evolve(event: PaymentEvent, state: Receipt) -> Receipt:
    raise TypeError(f"payment cannot apply {type(event).__name__}")


@evolve.register
def _(event: PaymentRecorded, state: Receipt) -> Receipt:
    return Receipt(payment=event)


@evolve.register
def _(event: RefundRecorded, state: Receipt) -> Receipt:
    return Receipt(refund=event)
