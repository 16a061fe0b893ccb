"""Payment gateways as a port, and what their webhooks tell Kontor."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol
from uuid import UUID

import msgspec

from domain.shared.errors import InvalidCommand


class InvalidSignature(Exception):
    """The webhook is not signed with the tenant's secret (or too old): answer 401."""


class MalformedEvent(InvalidCommand):
    code = "malformed_event"


class GatewayRefund(msgspec.Struct, frozen=True):
    """One refund at the gateway, by its own id (the dedup key) and amount."""

    reference: str
    amount: Decimal


class GatewayEvent(msgspec.Struct, frozen=True, kw_only=True):
    """`kind` is payment, refund or ignored; `reference` the gateway's id of the payment (or
    charge). A refund names the payment it returns in `payment_reference`, carries the
    cumulative amount refunded of it in `amount`, and lists each refund so far in `refunds`
    when the gateway sends them."""

    id: str
    kind: str
    reference: str
    currency: str
    amount: Decimal = Decimal(0)
    invoice_id: UUID | None = None
    order_id: UUID | None = None
    payment_reference: str | None = None
    refunds: list[GatewayRefund] = msgspec.field(default_factory=list)


class PaymentGateway(Protocol):
    name: str
    signature_header: str

    def verify(
        self, header: str | None, body: bytes, secret: str, now: float | None = None
    ) -> None: ...

    def parse(self, body: bytes) -> GatewayEvent: ...
