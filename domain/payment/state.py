"""A payment or refund stream: once recorded, the same reference again records nothing."""

from __future__ import annotations

from decimal import Decimal
from functools import singledispatch

import msgspec

from domain.payment.events import PaymentEvent, PaymentRecorded, RefundRecorded, RefundsReported


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    payment: PaymentRecorded | None = None
    refund: RefundRecorded | None = None
    refunds_reported: Decimal = Decimal(0)  # the gateway's cumulative figure, for payments

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
def _(event: RefundsReported, state: Receipt) -> Receipt:
    return msgspec.structs.replace(
        state, refunds_reported=max(state.refunds_reported, event.total.amount)
    )


@evolve.register
def _(event: RefundRecorded, state: Receipt) -> Receipt:
    return Receipt(refund=event)
