"""States of invoices, number series and billing accounts, and their evolve functions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.invoice.events import (
    CreditNoteIssued,
    InvoiceEvent,
    InvoiceIssued,
    InvoiceRecorded,
    InvoiceVoided,
    NumberAssigned,
    PaymentApplied,
)

ZERO = Decimal(0)


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    OVERDUE = "overdue"
    PAID = "paid"
    OVERPAID = "overpaid"
    CREDITED = "credited"
    VOID = "void"


class Invoice(msgspec.Struct, frozen=True, kw_only=True):
    """The issued document plus what happened to it since. Amounts are in its currency."""

    issued: InvoiceIssued | None = None
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    credited: Decimal = ZERO  # every credit note, refund or correction
    payments: list[PaymentApplied] = msgspec.field(default_factory=list)
    credit_notes: list[CreditNoteIssued] = msgspec.field(default_factory=list)
    voided: InvoiceVoided | None = None

    @property
    def exists(self) -> bool:
        return self.issued is not None

    @property
    def document(self) -> InvoiceIssued:
        if self.issued is None:
            raise LookupError("the invoice was never issued")
        return self.issued

    @property
    def balance(self) -> Decimal:
        """Still owed (positive) or overpaid (negative): total - credits - (paid - refunded)."""
        if self.issued is None or self.voided is not None:
            return ZERO
        return self.issued.total.amount - self.credited - self.paid + self.refunded

    @property
    def refundable(self) -> Decimal:
        return self.paid - self.refunded

    def status(self, now: datetime) -> InvoiceStatus:
        if self.voided is not None:
            return InvoiceStatus.VOID
        balance = self.balance
        if balance < 0:
            return InvoiceStatus.OVERPAID
        if balance == 0:
            return InvoiceStatus.PAID if self.paid > 0 else InvoiceStatus.CREDITED
        if self.issued is not None and self.issued.due_at < now:
            return InvoiceStatus.OVERDUE
        return InvoiceStatus.PARTIALLY_PAID if self.paid > 0 else InvoiceStatus.OPEN


@singledispatch
def evolve(event: InvoiceEvent, state: Invoice) -> Invoice:
    raise TypeError(f"invoice cannot apply {type(event).__name__}")


@evolve.register
def _(event: InvoiceIssued, state: Invoice) -> Invoice:
    return Invoice(issued=event)


@evolve.register
def _(event: PaymentApplied, state: Invoice) -> Invoice:
    return msgspec.structs.replace(
        state, paid=state.paid + event.amount.amount, payments=[*state.payments, event]
    )


@evolve.register
def _(event: CreditNoteIssued, state: Invoice) -> Invoice:
    refunded = state.refunded + (event.amount.amount if event.refund_id is not None else ZERO)
    return msgspec.structs.replace(
        state,
        credited=state.credited + event.amount.amount,
        refunded=refunded,
        credit_notes=[*state.credit_notes, event],
    )


@evolve.register
def _(event: InvoiceVoided, state: Invoice) -> Invoice:
    return msgspec.structs.replace(state, voided=event)


def fold(events: list[InvoiceEvent], state: Invoice | None = None) -> Invoice:
    current = state or Invoice()
    for event in events:
        current = evolve(event, current)
    return current


class Series(msgspec.Struct, frozen=True, kw_only=True):
    last: int = 0


def evolve_series(event: NumberAssigned, state: Series) -> Series:
    return Series(last=event.sequence)


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """What an order's invoices have billed so far."""

    invoices: list[UUID] = msgspec.field(default_factory=list)
    invoiced: dict[int, int] = msgspec.field(default_factory=dict)
    shipping_billed: bool = False
    fixed_discount_used: Decimal = ZERO


def evolve_account(event: InvoiceRecorded, state: Account) -> Account:
    invoiced = dict(state.invoiced)
    for line_no, quantity in event.quantities.items():
        invoiced[line_no] = invoiced.get(line_no, 0) + quantity
    return Account(
        invoices=[*state.invoices, event.invoice_id],
        invoiced=invoiced,
        shipping_billed=state.shipping_billed or event.shipping_billed,
        fixed_discount_used=state.fixed_discount_used + event.fixed_discount_used,
    )
