"""States of invoices, number series and billing accounts, and their evolve functions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.invoice.events import (
    AccountEvent,
    CreditApplied,
    CreditNoteIssued,
    CreditReceived,
    CreditRefunded,
    InvoiceEvent,
    InvoiceIssued,
    InvoiceRecorded,
    InvoiceReleased,
    InvoiceVoided,
    NumberAssigned,
    OverpaymentRefunded,
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
        """Paid and not refunded; nothing on a void invoice (its credit went back)."""
        return ZERO if self.voided is not None else self.paid - self.refunded

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
def _(event: OverpaymentRefunded, state: Invoice) -> Invoice:
    return msgspec.structs.replace(state, refunded=state.refunded + event.amount.amount)


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


class Credit(msgspec.Struct, frozen=True, kw_only=True):
    """What is still held of one payment that no invoice has taken yet (one entry per
    payment)."""

    payment_id: UUID
    amount: Decimal
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime


class Billed(msgspec.Struct, frozen=True, kw_only=True):
    quantities: dict[int, int]
    shipping_billed: bool
    fixed_discount_used: Decimal


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """What an order's invoices have billed so far, and the payments held for the next ones
    (oldest first: credit is used and refunded in the order it arrived)."""

    invoices: list[UUID] = msgspec.field(default_factory=list)
    billed: dict[UUID, Billed] = msgspec.field(default_factory=dict)  # by live invoice
    invoiced: dict[int, int] = msgspec.field(default_factory=dict)
    shipping_billed: bool = False
    fixed_discount_used: Decimal = ZERO
    credits: list[Credit] = msgspec.field(default_factory=list)
    credit_refunded: Decimal = ZERO

    @property
    def credit(self) -> Decimal:
        return sum((c.amount for c in self.credits), ZERO)


@singledispatch
def evolve_account(event: AccountEvent, state: Account) -> Account:
    raise TypeError(f"billing account cannot apply {type(event).__name__}")


@evolve_account.register
def _(event: InvoiceRecorded, state: Account) -> Account:
    invoiced = dict(state.invoiced)
    for line_no, quantity in event.quantities.items():
        invoiced[line_no] = invoiced.get(line_no, 0) + quantity
    return msgspec.structs.replace(
        state,
        invoices=[*state.invoices, event.invoice_id],
        billed={
            **state.billed,
            event.invoice_id: Billed(
                quantities=event.quantities,
                shipping_billed=event.shipping_billed,
                fixed_discount_used=event.fixed_discount_used,
            ),
        },
        invoiced=invoiced,
        shipping_billed=state.shipping_billed or event.shipping_billed,
        fixed_discount_used=state.fixed_discount_used + event.fixed_discount_used,
    )


@evolve_account.register
def _(event: InvoiceReleased, state: Account) -> Account:
    invoiced = dict(state.invoiced)
    for line_no, quantity in event.quantities.items():
        invoiced[line_no] = invoiced.get(line_no, 0) - quantity
    return msgspec.structs.replace(
        state,
        billed={k: v for k, v in state.billed.items() if k != event.invoice_id},
        invoiced=invoiced,
        shipping_billed=state.shipping_billed and not event.shipping_billed,
        fixed_discount_used=state.fixed_discount_used - event.fixed_discount_used,
    )


@evolve_account.register
def _(event: CreditReceived, state: Account) -> Account:
    held = Credit(
        payment_id=event.payment_id,
        amount=event.amount.amount,
        method=event.method,
        gateway=event.gateway,
        gateway_reference=event.gateway_reference,
        received_at=event.received_at,
    )
    if any(c.payment_id == event.payment_id for c in state.credits):
        credits = [
            msgspec.structs.replace(c, amount=c.amount + held.amount)
            if c.payment_id == event.payment_id
            else c
            for c in state.credits
        ]
        return msgspec.structs.replace(state, credits=credits)
    return msgspec.structs.replace(state, credits=[*state.credits, held])


def _take(state: Account, payment_id: UUID, amount: Decimal) -> Account:
    credits = [
        msgspec.structs.replace(c, amount=c.amount - amount) if c.payment_id == payment_id else c
        for c in state.credits
    ]
    return msgspec.structs.replace(state, credits=[c for c in credits if c.amount > 0])


@evolve_account.register
def _(event: CreditApplied, state: Account) -> Account:
    return _take(state, event.payment_id, event.amount.amount)


@evolve_account.register
def _(event: CreditRefunded, state: Account) -> Account:
    taken = _take(state, event.payment_id, event.amount.amount)
    return msgspec.structs.replace(
        taken, credit_refunded=state.credit_refunded + event.amount.amount
    )
