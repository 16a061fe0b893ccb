"""Events of the Invoice aggregate (one stream per invoice), of invoice-number series (one
stream per tenant and series) and of an order's billing account (one stream per order)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from domain.order.events import Address, Customer
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


class PaymentApplied(InvoiceEvent, frozen=True, kw_only=True):
    payment_id: UUID
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime


class CreditNoteIssued(InvoiceEvent, frozen=True, kw_only=True):
    """Reduces what the invoice asks for; with a `refund_id`, the money also went back."""

    credit_note_id: UUID
    number: str
    amount: Money
    tax: Money
    reason: str
    refund_id: UUID | None
    issued_at: datetime


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


class InvoiceRecorded(DomainEvent, frozen=True, kw_only=True):
    """An order's billing account learnt of an invoice: what it billed of which lines."""

    aggregate = "billing_account"
    invoice_id: UUID
    order_id: UUID
    quantities: dict[int, int]
    shipping_billed: bool
    fixed_discount_used: Decimal
