"""Events of the Invoice aggregate (one stream per invoice), of invoice-number series (one
stream per tenant and series) and of an order's billing account (one stream per order)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from domain.order.events import PERSONAL_CUSTOMER, Address, Customer, personal_address
from domain.shared.events import DomainEvent
from domain.shared.money import Money


class InvoiceLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    sku: str
    quantity: int
    unit_price: Money
    amount: Money
    discount: Money
    net: Money
    tax: Money
    total: Money


class Jurisdiction(msgspec.Struct, frozen=True):
    country: str
    region: str | None = None


class Conversion(msgspec.Struct, frozen=True):
    """One unit of the invoice's currency is worth `rate` of the tenant's base currency."""

    base_currency: str
    rate: Decimal
    total_in_base: Money


class InvoiceEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "invoice"


class InvoiceIssued(InvoiceEvent, frozen=True, kw_only=True):
    personal_data = (*PERSONAL_CUSTOMER, *personal_address("billing_address"))
    data_subject = "customer_id"

    invoice_id: UUID
    number: str
    series: str
    order_id: UUID
    shipment_id: UUID | None
    store: str
    currency: str
    merchant: str
    customer: Customer
    billing_address: Address
    lines: list[InvoiceLine]
    shipping: Money
    shipping_tax: Money
    subtotal: Money
    discount_total: Money
    tax_total: Money
    total: Money
    prices_include_tax: bool
    tax_rounding: str
    tax_rate: Decimal
    jurisdiction: Jurisdiction
    exempt_reason: str | None
    conversion: Conversion | None
    issued_at: datetime
    due_at: datetime
    customer_id: UUID | None = None


class PaymentApplied(InvoiceEvent, frozen=True, kw_only=True):
    """All or part of a payment; `from_credit` when it was the order's prepaid credit."""

    payment_id: UUID
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime
    from_credit: bool = False


class CreditNoteIssued(InvoiceEvent, frozen=True, kw_only=True):
    """Reduces what the invoice asks for; with a `refund_id`, the money also went back."""

    credit_note_id: UUID
    number: str
    amount: Money
    tax: Money
    reason: str
    refund_id: UUID | None
    issued_at: datetime


class OverpaymentRefunded(InvoiceEvent, frozen=True, kw_only=True):
    """Money paid beyond the invoice's amount went back; what was billed stands."""

    refund_id: UUID
    amount: Money
    refunded_at: datetime


class InvoiceVoided(InvoiceEvent, frozen=True, kw_only=True):
    reason: str
    voided_at: datetime


class NumberAssigned(DomainEvent, frozen=True, kw_only=True):
    """The next number of a gapless series went to one invoice or credit note."""

    aggregate = "invoice_series"
    series: str
    sequence: int
    number: str
    document_id: UUID


class AccountEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "billing_account"


class InvoiceRecorded(AccountEvent, frozen=True, kw_only=True):
    """An order's billing account learnt of an invoice: what it billed of which lines."""

    invoice_id: UUID
    order_id: UUID
    quantities: dict[int, int]
    shipping_billed: bool
    fixed_discount_used: Decimal


class InvoiceReleased(AccountEvent, frozen=True, kw_only=True):
    """A voided invoice gave back what it billed: those quantities can be invoiced again."""

    invoice_id: UUID
    quantities: dict[int, int]
    shipping_billed: bool
    fixed_discount_used: Decimal


class CreditReceived(AccountEvent, frozen=True, kw_only=True):
    """A payment for the order that no invoice asks for yet (prepayment), or what a voided
    invoice had taken of the held credit: held as credit."""

    payment_id: UUID
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime


class CreditApplied(AccountEvent, frozen=True, kw_only=True):
    """Held credit of one payment went to an invoice (a PaymentApplied on that invoice)."""

    payment_id: UUID
    invoice_id: UUID
    amount: Money


class CreditRefunded(AccountEvent, frozen=True, kw_only=True):
    """Held credit of one payment went back to the customer."""

    payment_id: UUID
    refund_id: UUID
    amount: Money
