"""Money read models: invoices (one row per invoice, its folded state) and the billing ledger
(orders, shipped value, payments and refunds) that reconciliation and AR ageing query."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from application.ports import Recorded
from domain.customer.model import CustomerErased
from domain.invoice.events import (
    CreditNoteIssued,
    InvoiceIssued,
    InvoiceVoided,
    OverpaymentRefunded,
    PaymentApplied,
)
from domain.invoice.state import Invoice, evolve
from domain.order.events import OrderLinesEdited, OrderPlaced
from domain.payment.events import PaymentRecorded, RefundRecorded
from domain.shipment.events import ShipmentShipped
from projections.base import StreamFoldView, View, ViewProjection

INVOICES_DDL = (
    """CREATE TABLE IF NOT EXISTS invoices_view (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        version bigint NOT NULL,
        number text NOT NULL,
        store text NOT NULL,
        order_id uuid NOT NULL,
        shipment_id uuid,
        currency text NOT NULL,
        prices_include_tax boolean NOT NULL,
        voided boolean NOT NULL,
        subtotal numeric NOT NULL,
        discount numeric NOT NULL,
        shipping numeric NOT NULL,
        tax numeric NOT NULL,
        total numeric NOT NULL,
        lines_total numeric NOT NULL,
        units int NOT NULL,
        paid numeric NOT NULL,
        refunded numeric NOT NULL,
        credited numeric NOT NULL,
        balance numeric NOT NULL,
        payments int NOT NULL,
        foreign_payments int NOT NULL,
        fx_rate numeric,
        base_currency text,
        customer_email text NOT NULL,
        issued_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        state bytea NOT NULL,
        customer_id uuid,
        PRIMARY KEY (tenant_id, id))""",
    "ALTER TABLE invoices_view ADD COLUMN IF NOT EXISTS customer_id uuid",
    "CREATE INDEX IF NOT EXISTS invoices_view_customer ON invoices_view (customer_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS invoices_view_id ON invoices_view (id)",
    "CREATE INDEX IF NOT EXISTS invoices_view_recent "
    "ON invoices_view (tenant_id, issued_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS invoices_view_order ON invoices_view (tenant_id, order_id)",
)

UPSERT = """
INSERT INTO invoices_view VALUES (%(tenant_id)s, %(id)s, %(version)s, %(number)s, %(store)s,
    %(order_id)s, %(shipment_id)s, %(currency)s, %(prices_include_tax)s, %(voided)s,
    %(subtotal)s, %(discount)s,
    %(shipping)s, %(tax)s, %(total)s, %(lines_total)s, %(units)s, %(paid)s, %(refunded)s,
    %(credited)s, %(balance)s, %(payments)s, %(foreign_payments)s, %(fx_rate)s,
    %(base_currency)s, %(customer_email)s,
    %(issued_at)s, %(due_at)s, %(state)s, %(customer_id)s)
ON CONFLICT (tenant_id, id) DO UPDATE SET version = EXCLUDED.version, voided = EXCLUDED.voided,
    paid = EXCLUDED.paid, refunded = EXCLUDED.refunded, credited = EXCLUDED.credited,
    balance = EXCLUDED.balance, payments = EXCLUDED.payments,
    foreign_payments = EXCLUDED.foreign_payments, state = EXCLUDED.state
WHERE invoices_view.version < EXCLUDED.version
"""


class InvoicesView(StreamFoldView[Invoice]):
    ddl = INVOICES_DDL
    table = "invoices_view"
    key_column = "id"
    state_type = Invoice
    initial = Invoice()
    evolve = staticmethod(evolve)
    upsert = UPSERT
    personal_paths = tuple(f"issued.{path}" for path in InvoiceIssued.personal_data)
    personal_columns = ("customer_email",)

    def row(self, recorded: Recorded, state: Invoice) -> dict[str, Any]:
        doc = state.document
        lines_total = sum((line.net.amount for line in doc.lines), Decimal(0))
        return {
            "tenant_id": recorded.metadata.tenant_id,
            "id": recorded.originator_id,
            "version": recorded.originator_version,
            "number": doc.number,
            "store": doc.store,
            "order_id": doc.order_id,
            "shipment_id": doc.shipment_id,
            "currency": doc.currency,
            "prices_include_tax": doc.prices_include_tax,
            "voided": state.voided is not None,
            "subtotal": doc.subtotal.amount,
            "discount": doc.discount_total.amount,
            "shipping": doc.shipping.amount,
            "tax": doc.tax_total.amount,
            "total": doc.total.amount,
            "lines_total": lines_total,
            "units": sum(line.quantity for line in doc.lines),
            "paid": state.paid,
            "refunded": state.refunded,
            "credited": state.credited,
            "balance": state.balance,
            "payments": len(state.payments),
            "foreign_payments": sum(p.amount.currency != doc.currency for p in state.payments),
            "fx_rate": doc.conversion.rate if doc.conversion else None,
            "base_currency": doc.conversion.base_currency if doc.conversion else None,
            "customer_email": doc.customer.email,
            "issued_at": doc.issued_at,
            "due_at": doc.due_at,
            "state": msgspec.json.encode(state),
            "customer_id": doc.customer_id,
        }


class InvoicesProjection(ViewProjection):
    name = "invoices_view"
    topics: ClassVar[tuple[str, ...]] = tuple(  # type: ignore[misc]
        cls.topic()
        for cls in (
            InvoiceIssued,
            PaymentApplied,
            CreditNoteIssued,
            OverpaymentRefunded,
            InvoiceVoided,
            CustomerErased,
        )
    )


LEDGER_DDL = (
    """CREATE TABLE IF NOT EXISTS billing_orders (
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        store text NOT NULL,
        currency text NOT NULL,
        ordered numeric NOT NULL,
        units int NOT NULL,
        prices jsonb NOT NULL,
        placed_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, order_id))""",
    """CREATE TABLE IF NOT EXISTS billing_shipments (
        tenant_id uuid NOT NULL,
        shipment_id uuid NOT NULL,
        order_id uuid NOT NULL,
        units int NOT NULL,
        value numeric NOT NULL,
        shipped_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, shipment_id))""",
    "CREATE INDEX IF NOT EXISTS billing_shipments_order ON billing_shipments (tenant_id, order_id)",
    # Units an order's edits added (quantities raised, lines added: ADR 0057), one row per edit
    # event; `prices` holds the added lines' unit prices.
    """CREATE TABLE IF NOT EXISTS billing_order_edits (
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        version bigint NOT NULL,
        ordered numeric NOT NULL,
        units int NOT NULL,
        prices jsonb NOT NULL,
        PRIMARY KEY (tenant_id, order_id, version))""",
    """CREATE TABLE IF NOT EXISTS billing_payments (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        kind text NOT NULL,
        order_id uuid NOT NULL,
        invoice_id uuid,
        amount numeric NOT NULL,
        currency text NOT NULL,
        method text,
        gateway text,
        gateway_reference text,
        at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS billing_payments_order ON billing_payments (tenant_id, order_id)",
)

INSERT_ORDER = """INSERT INTO billing_orders VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING"""
# An order's unit prices per line number: as placed, and of the lines its edits added.
PRICES = """(SELECT o.prices || coalesce(jsonb_object_agg(p.key, p.value), '{}')
    FROM billing_order_edits e, jsonb_each(e.prices) AS p
    WHERE e.tenant_id = o.tenant_id AND e.order_id = o.order_id)"""
INSERT_SHIPMENT = f"""INSERT INTO billing_shipments
SELECT %(tenant)s, %(shipment)s, %(order)s, %(units)s,
    coalesce((SELECT sum((known.prices ->> l.line_no::text)::numeric * l.quantity)
              FROM jsonb_to_recordset(%(lines)s::jsonb) AS l(line_no int, quantity int)), 0),
    %(at)s
FROM (SELECT 1) one LEFT JOIN billing_orders o ON o.tenant_id = %(tenant)s
    AND o.order_id = %(order)s
    LEFT JOIN LATERAL {PRICES} AS known(prices) ON true
ON CONFLICT DO NOTHING"""
# What an edit adds to the order: the added lines at their prices, raised quantities at the
# prices their lines already have (placed, or added by an earlier edit).
INSERT_EDIT = f"""INSERT INTO billing_order_edits
SELECT o.tenant_id, o.order_id, %(version)s,
    coalesce((SELECT sum(l.quantity
                  * coalesce(l.price, (known.prices ->> l.line_no::text)::numeric))
              FROM jsonb_to_recordset(%(lines)s::jsonb)
                  AS l(line_no int, quantity int, price numeric)), 0),
    %(units)s, %(prices)s::jsonb
FROM billing_orders o LEFT JOIN LATERAL {PRICES} AS known(prices) ON true
WHERE o.tenant_id = %(tenant)s AND o.order_id = %(order)s
ON CONFLICT DO NOTHING"""
INSERT_PAYMENT = """INSERT INTO billing_payments VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING"""


class LedgerView(View):
    """Append-only rows keyed by event identity, so a replay inserts nothing twice."""

    ddl = LEDGER_DDL
    tables = ("billing_orders", "billing_shipments", "billing_payments", "billing_order_edits")

    def write(self, curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None:
        for recorded in batch:
            tenant = recorded.metadata.tenant_id
            event = recorded.event
            if isinstance(event, OrderPlaced):
                curs.execute(
                    INSERT_ORDER,
                    (
                        tenant,
                        event.order_id,
                        event.store,
                        event.currency,
                        sum((ln.unit_price.amount * ln.quantity for ln in event.lines), Decimal(0)),
                        sum(line.quantity for line in event.lines),
                        msgspec.json.encode(
                            {str(ln.line_no): str(ln.unit_price.amount) for ln in event.lines}
                        ).decode(),
                        event.placed_at,
                    ),
                )
            elif isinstance(event, OrderLinesEdited):
                lines = [
                    {"line_no": ln.line_no, "quantity": ln.quantity, "price": ln.unit_price.amount}
                    for ln in event.added
                ] + [{"line_no": ln.line_no, "quantity": ln.quantity} for ln in event.increased]
                curs.execute(
                    INSERT_EDIT,
                    {
                        "tenant": tenant,
                        "order": recorded.originator_id,
                        "version": recorded.originator_version,
                        "lines": msgspec.json.encode(lines).decode(),
                        "units": sum(line["quantity"] for line in lines),
                        "prices": msgspec.json.encode(
                            {str(ln.line_no): str(ln.unit_price.amount) for ln in event.added}
                        ).decode(),
                    },
                )
            elif isinstance(event, ShipmentShipped):
                curs.execute(
                    INSERT_SHIPMENT,
                    {
                        "tenant": tenant,
                        "shipment": event.shipment_id,
                        "order": event.order_id,
                        "units": sum(line.quantity for line in event.lines),
                        "lines": msgspec.json.encode(event.lines).decode(),
                        "at": event.shipped_at,
                    },
                )
            elif isinstance(event, PaymentRecorded):
                curs.execute(
                    INSERT_PAYMENT,
                    (
                        tenant, event.payment_id, "payment", event.order_id, event.invoice_id,
                        event.amount.amount, event.amount.currency, event.method, event.gateway,
                        event.gateway_reference, event.received_at,
                    ),
                )  # fmt: skip
            elif isinstance(event, RefundRecorded):
                curs.execute(
                    INSERT_PAYMENT,
                    (
                        tenant, event.refund_id, "refund", event.order_id, None,
                        event.amount.amount, event.amount.currency, None, event.gateway,
                        event.gateway_reference, event.refunded_at,
                    ),
                )  # fmt: skip


class LedgerProjection(ViewProjection):
    name = "billing_ledger"
    topics: ClassVar[tuple[str, ...]] = tuple(  # type: ignore[misc]
        cls.topic()
        for cls in (OrderPlaced, OrderLinesEdited, ShipmentShipped, PaymentRecorded, RefundRecorded)
    )
