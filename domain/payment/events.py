"""Events of payments and refunds: one stream per gateway reference (or per refund), so the same
gateway reference twice is one payment and a replayed refund is one refund."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.shared.events import DomainEvent
from domain.shared.money import Money


class PaymentEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "payment"


class PaymentRecorded(PaymentEvent, frozen=True, kw_only=True):
    """`invoice_id`: the (first) invoice it paid; None when all of it was held as the order's
    credit (a prepayment)."""

    payment_id: UUID
    invoice_id: UUID | None
    order_id: UUID
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime


class RefundShare(msgspec.Struct, frozen=True):
    """No credit note when the share returns what the invoice was overpaid."""

    invoice_id: UUID
    credit_note_id: UUID | None
    amount: Money


class RefundRecorded(PaymentEvent, frozen=True, kw_only=True):
    refund_id: UUID
    order_id: UUID
    amount: Money
    reason: str
    gateway: str | None
    gateway_reference: str | None
    shares: list[RefundShare]
    refunded_at: datetime
    from_credit: Money | None = None  # of the order's held credit, besides the shares


class RefundsReported(PaymentEvent, frozen=True, kw_only=True):
    """The gateway reported `total` refunded of this payment so far (cumulative)."""

    total: Money
