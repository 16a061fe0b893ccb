"""Request and response bodies of the money routes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from application.invoices import OrderBilling
from domain.invoice.events import InvoiceLine
from domain.invoice.state import Invoice
from domain.shared.money import Money
from interfaces.http.schemas import Amount, Code, Country, Currency, Email, Reason
from projections.finance import InvoiceRow, PayoutImport, PayoutMatch

Gateway = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency
    method: Annotated[str, Meta(min_length=1, max_length=64)]
    gateway: Gateway
    gateway_reference: Annotated[str, Meta(min_length=1, max_length=255)]
    invoice_id: UUID | None = None
    order_id: UUID | None = None


class RefundLineIn(msgspec.Struct, forbid_unknown_fields=True):
    line_no: Annotated[int, Meta(ge=1)]
    quantity: Annotated[int, Meta(ge=1)]


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    amount: Amount | None = None
    lines: Annotated[list[RefundLineIn], Meta(min_length=1, max_length=500)] | None = None


class VoidIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class CreditIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    reason: Reason


class CreditNoteOut(msgspec.Struct):
    id: UUID
    number: str
    amount: Money
    tax: Money
    reason: str
    refund_id: UUID | None
    issued_at: datetime


class PaymentAppliedOut(msgspec.Struct):
    id: UUID
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime


class InvoiceOut(msgspec.Struct):
    id: UUID
    version: int
    number: str
    status: str
    order_id: UUID
    shipment_id: UUID | None
    store: str
    currency: str
    merchant: str
    customer_email: str
    customer_name: str
    lines: list[InvoiceLine]
    subtotal: Money
    discount_total: Money
    shipping: Money
    shipping_tax: Money
    tax_total: Money
    total: Money
    tax_rate: Decimal
    prices_include_tax: bool
    tax_rounding: str
    exempt_reason: str | None
    fx_rate: Decimal | None
    base_currency: str | None
    total_in_base: Money | None
    paid: Money
    refunded: Money
    credited: Money
    balance: Money
    payments: list[PaymentAppliedOut]
    credit_notes: list[CreditNoteOut]
    issued_at: datetime
    due_at: datetime
    void_reason: str | None

    @classmethod
    def of(cls, invoice: Invoice, version: int, now: datetime) -> InvoiceOut:
        doc = invoice.document
        cur = doc.currency
        conversion = doc.conversion
        return cls(
            id=doc.invoice_id,
            version=version,
            number=doc.number,
            status=str(invoice.status(now)),
            order_id=doc.order_id,
            shipment_id=doc.shipment_id,
            store=doc.store,
            currency=cur,
            merchant=doc.merchant,
            customer_email=doc.customer.email,
            customer_name=doc.customer.name,
            lines=doc.lines,
            subtotal=doc.subtotal,
            discount_total=doc.discount_total,
            shipping=doc.shipping,
            shipping_tax=doc.shipping_tax,
            tax_total=doc.tax_total,
            total=doc.total,
            tax_rate=doc.tax_rate,
            prices_include_tax=doc.prices_include_tax,
            tax_rounding=doc.tax_rounding,
            exempt_reason=doc.exempt_reason,
            fx_rate=conversion.rate if conversion else None,
            base_currency=conversion.base_currency if conversion else None,
            total_in_base=conversion.total_in_base if conversion else None,
            paid=Money(invoice.paid, cur),
            refunded=Money(invoice.refunded, cur),
            credited=Money(invoice.credited, cur),
            balance=Money(invoice.balance, cur),
            payments=[
                PaymentAppliedOut(
                    p.payment_id, p.amount, p.method, p.gateway, p.gateway_reference, p.received_at
                )
                for p in invoice.payments
            ],
            credit_notes=[
                CreditNoteOut(
                    n.credit_note_id, n.number, n.amount, n.tax, n.reason, n.refund_id, n.issued_at
                )
                for n in invoice.credit_notes
            ],
            issued_at=doc.issued_at,
            due_at=doc.due_at,
            void_reason=invoice.voided.reason if invoice.voided else None,
        )


class InvoiceSummaryOut(msgspec.Struct):
    id: UUID
    number: str
    status: str
    store: str
    order_id: UUID
    total: Money
    tax: Money
    balance: Money
    issued_at: datetime
    due_at: datetime

    @classmethod
    def from_row(cls, r: InvoiceRow, now: datetime) -> InvoiceSummaryOut:
        """From the invoice list's read model (projections/finance.py)."""
        return cls(
            r.id,
            r.number,
            r.status(now),
            r.store,
            r.order_id,
            Money(r.total, r.currency),
            Money(r.tax, r.currency),
            Money(r.balance, r.currency),
            r.issued_at,
            r.due_at,
        )

    @classmethod
    def of(cls, invoice: Invoice, now: datetime) -> InvoiceSummaryOut:
        doc = invoice.document
        return cls(
            doc.invoice_id,
            doc.number,
            str(invoice.status(now)),
            doc.store,
            doc.order_id,
            doc.total,
            doc.tax_total,
            Money(invoice.balance, doc.currency),
            doc.issued_at,
            doc.due_at,
        )


class PaymentOut(msgspec.Struct):
    """`invoice` is the first invoice paid (None when all of it is held as the order's credit);
    `credit` is what the order holds for invoices still to come (payments by order only)."""

    payment_id: UUID
    invoice: InvoiceOut | None
    invoices: list[InvoiceOut]
    credit: Money | None


class OrderBillingOut(msgspec.Struct):
    """An order's money: `paid` counts every payment (held credit included), `credit` what no
    invoice has taken yet, `outstanding` what invoices still ask for, `overpaid` what invoices
    received beyond their amount."""

    order_id: UUID
    invoiced: Money
    paid: Money
    refunded: Money
    credit: Money
    outstanding: Money
    overpaid: Money
    invoices: list[InvoiceSummaryOut]

    @classmethod
    def of(cls, billing: OrderBilling, now: datetime) -> OrderBillingOut:
        cur = billing.currency
        live = [i.state for i in billing.invoices if i.state.voided is None]
        account = billing.account

        def total(values: Iterable[Decimal]) -> Money:
            return Money.of(sum(values, Decimal(0)), cur)

        return cls(
            order_id=billing.order_id,
            invoiced=total(i.document.total.amount for i in live),
            paid=total([account.credit, account.credit_refunded, *(i.paid for i in live)]),
            refunded=total([account.credit_refunded, *(i.refunded for i in live)]),
            credit=Money.of(account.credit, cur),
            outstanding=total(max(i.balance, Decimal(0)) for i in live),
            overpaid=total(max(-i.balance, Decimal(0)) for i in live),
            invoices=[InvoiceSummaryOut.of(i.state, now) for i in billing.invoices],
        )


class RefundOut(msgspec.Struct):
    refund_id: UUID
    amount: Money
    invoices: list[InvoiceOut]


class PayoutImportOut(msgspec.Struct):
    import_id: UUID
    gateway: str
    imported_at: datetime
    lines: int
    matched: int
    amount_differs: int
    missing_in_kontor: int
    missing_at_gateway: int
    mismatches: list[PayoutMatch]

    @classmethod
    def of(
        cls, payout: PayoutImport, matches: list[PayoutMatch], *, scoped: bool = False
    ) -> PayoutImportOut:
        """`scoped`: the matches are a store-scoped caller's, so `lines` counts only the file's
        lines among them."""
        counts = Counter(match.status for match in matches)
        return cls(
            payout.import_id,
            payout.gateway,
            payout.imported_at,
            len(matches) - counts["missing_at_gateway"] if scoped else payout.lines,
            counts["matched"],
            counts["amount_differs"],
            counts["missing_in_kontor"],
            counts["missing_at_gateway"],
            [match for match in matches if match.status != "matched"],
        )


class WebhookOut(msgspec.Struct):
    status: str  # recorded | duplicate | ignored
    event_id: str


# --- configuration ---------------------------------------------------------------------------


class BillingSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    base_currency: Currency
    merchant_name: Annotated[str, Meta(max_length=200)] = ""


class StorePolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    invoice_on: Annotated[str, Meta(pattern="^(shipment|order)$")] = "shipment"
    prices_include_tax: bool = False
    tax_rounding: Annotated[str, Meta(pattern="^(line|invoice)$")] = "line"
    payment_terms_days: Annotated[int, Meta(ge=0, le=365)] = 30


class TaxRateIn(msgspec.Struct, forbid_unknown_fields=True):
    country: Country
    rate: Annotated[Decimal, Meta(description="a fraction from 0 to 1: 0.19 for 19%")]
    region: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class FxRateIn(msgspec.Struct, forbid_unknown_fields=True):
    currency: Currency
    rate: Annotated[Decimal, Meta(description="positive: 1 currency = rate base currency")]
    valid_from: datetime
    base_currency: Currency | None = None


class FxRatesIn(msgspec.Struct, forbid_unknown_fields=True):
    rates: Annotated[list[FxRateIn], Meta(min_length=1, max_length=10_000)]


class ExemptionIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    reason: Reason


class WebhookSecretIn(msgspec.Struct, forbid_unknown_fields=True):
    gateway: Gateway
    secret: Annotated[str, Meta(min_length=16, max_length=512)]


class Saved(msgspec.Struct):
    saved: str


__all__ = ["Code"]
