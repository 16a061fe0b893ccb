"""Queries over the money read models: invoice lists, reconciliation, AR ageing, payouts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

ZERO = Decimal(0)


class InvoiceRow(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    store: str
    order_id: UUID
    shipment_id: UUID | None
    currency: str
    voided: bool
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    paid: Decimal
    refunded: Decimal
    credited: Decimal
    balance: Decimal
    customer_email: str
    issued_at: datetime
    due_at: datetime

    def status(self, now: datetime) -> str:
        if self.voided:
            return "void"
        if self.balance < 0:
            return "overpaid"
        if self.balance == 0:
            return "paid" if self.paid > 0 else "credited"
        if self.due_at < now:
            return "overdue"
        return "partially_paid" if self.paid > 0 else "open"


STATUS_SQL = {
    "void": "voided",
    "overpaid": "NOT voided AND balance < 0",
    "paid": "NOT voided AND balance = 0 AND paid > 0",
    "credited": "NOT voided AND balance = 0 AND paid = 0",
    "overdue": "NOT voided AND balance > 0 AND due_at < %(now)s",
    "partially_paid": "NOT voided AND balance > 0 AND due_at >= %(now)s AND paid > 0",
    "open": "NOT voided AND balance > 0 AND due_at >= %(now)s AND paid = 0",
}
COLUMNS = ", ".join(InvoiceRow.__struct_fields__)


def list_invoices(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    now: datetime,
    status: str | None = None,
    store: str | None = None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 50,
    stores: frozenset[str] | None = None,
) -> list[InvoiceRow]:
    """`stores`: the caller's store scope (None: every store)."""
    where = ["tenant_id = %(tenant)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "now": now, "limit": limit}
    if stores is not None:
        where.append("store = ANY(%(stores)s)")
        params["stores"] = sorted(stores)
    if status:
        where.append(f"({STATUS_SQL[status]})")
    if store:
        where.append("store = %(store)s")
        params["store"] = store
    if issued_from:
        where.append("issued_at >= %(from)s")
        params["from"] = issued_from
    if issued_to:
        where.append("issued_at < %(to)s")
        params["to"] = issued_to
    if after is not None:
        where.append("(issued_at, id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    curs.execute(
        f"SELECT {COLUMNS} FROM invoices_view WHERE {' AND '.join(where)} "  # type: ignore[arg-type]
        "ORDER BY issued_at DESC, id DESC LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[InvoiceRow])


RECONCILE = """
WITH o AS (
    SELECT b.order_id, b.store, b.currency, b.placed_at,
        b.ordered + coalesce(e.ordered, 0) AS ordered, b.units + coalesce(e.units, 0) AS units
    FROM billing_orders b LEFT JOIN (
        SELECT order_id, sum(ordered) AS ordered, sum(units) AS units FROM billing_order_edits
        WHERE tenant_id = %(tenant)s GROUP BY order_id) e USING (order_id)
    WHERE tenant_id = %(tenant)s
      AND (%(from)s::timestamptz IS NULL OR placed_at >= %(from)s)
      AND (%(to)s::timestamptz IS NULL OR placed_at < %(to)s)
      AND (%(store)s::text IS NULL OR store = %(store)s)
      AND (%(stores)s::text[] IS NULL OR store = ANY(%(stores)s))),
s AS (SELECT order_id, sum(units) AS units, sum(value) AS value FROM billing_shipments
      WHERE tenant_id = %(tenant)s GROUP BY order_id),
i AS (SELECT order_id,
        sum(total) FILTER (WHERE NOT voided) AS invoiced,
        sum(tax) FILTER (WHERE NOT voided) AS tax,
        sum(units) FILTER (WHERE NOT voided) AS units,
        sum(greatest(balance, 0)) FILTER (WHERE NOT voided) AS outstanding,
        sum(greatest(-balance, 0)) FILTER (WHERE NOT voided) AS overpaid,
        sum(paid - refunded) FILTER (WHERE NOT voided) AS applied,
        array_agg(number) FILTER (WHERE NOT voided AND total <> lines_total + shipping
            + CASE WHEN prices_include_tax THEN 0 ELSE tax END) AS bad_totals,
        array_agg(number) FILTER (WHERE NOT voided AND payments > 1
            AND paid - refunded > total - credited) AS paid_twice,
        array_agg(number) FILTER (WHERE refunded > paid) AS over_refunded,
        array_agg(number) FILTER (WHERE fx_rate IS NULL) AS missing_fx,
        array_agg(DISTINCT currency) AS currencies,
        array_agg(number) FILTER (WHERE foreign_payments > 0) AS foreign_paid
      FROM invoices_view WHERE tenant_id = %(tenant)s GROUP BY order_id),
p AS (SELECT order_id,
        sum(amount) FILTER (WHERE kind = 'payment') AS paid,
        sum(amount) FILTER (WHERE kind = 'refund') AS refunded,
        array_agg(DISTINCT currency) AS currencies
      FROM billing_payments WHERE tenant_id = %(tenant)s GROUP BY order_id)
SELECT o.order_id, o.store, o.currency, o.ordered, o.units AS ordered_units,
    coalesce(s.units, 0) AS shipped_units, coalesce(s.value, 0) AS shipped_value,
    coalesce(i.invoiced, 0) AS invoiced, coalesce(i.tax, 0) AS tax,
    coalesce(i.units, 0) AS invoiced_units, coalesce(i.outstanding, 0) AS outstanding,
    coalesce(i.overpaid, 0) AS overpaid,
    coalesce(p.paid, 0) - coalesce(p.refunded, 0) - coalesce(i.applied, 0) AS credit,
    coalesce(p.paid, 0) AS paid, coalesce(p.refunded, 0) AS refunded,
    i.bad_totals, i.paid_twice, i.foreign_paid, i.over_refunded, i.missing_fx,
    i.currencies AS invoice_currencies, p.currencies AS payment_currencies
FROM o LEFT JOIN s USING (order_id) LEFT JOIN i USING (order_id) LEFT JOIN p USING (order_id)
ORDER BY o.placed_at, o.order_id
"""


class Mismatch(msgspec.Struct, frozen=True):
    kind: str
    detail: str


class OrderReconciliation(msgspec.Struct, frozen=True):
    """`paid` counts every payment of the order; `credit` is what no invoice has taken yet
    (prepaid), `outstanding` what invoices still ask for, `overpaid` what they got beyond it."""

    order_id: UUID
    store: str
    currency: str
    ordered: Decimal
    shipped_value: Decimal
    invoiced: Decimal
    tax: Decimal
    paid: Decimal
    refunded: Decimal
    credit: Decimal
    outstanding: Decimal
    overpaid: Decimal
    mismatches: list[Mismatch]


class Totals(msgspec.Struct):
    currency: str
    ordered: Decimal = ZERO
    shipped_value: Decimal = ZERO
    invoiced: Decimal = ZERO
    tax: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    credit: Decimal = ZERO
    outstanding: Decimal = ZERO
    overpaid: Decimal = ZERO
    mismatches: int = 0


class Reconciliation(msgspec.Struct, frozen=True):
    orders: list[OrderReconciliation]
    totals: list[Totals]


MONEY_FIELDS = (
    "ordered", "shipped_value", "invoiced", "tax", "paid", "refunded", "credit", "outstanding",
    "overpaid",
)  # fmt: skip


def _mismatches(row: dict[str, Any]) -> list[Mismatch]:
    found: list[Mismatch] = []
    if row["shipped_units"] > row["invoiced_units"]:
        found.append(
            Mismatch(
                "shipped_not_invoiced",
                f"{row['shipped_units']} units shipped, {row['invoiced_units']} invoiced",
            )
        )
    for number in row["paid_twice"] or ():
        found.append(Mismatch("paid_twice", f"invoice {number} was paid more than once"))
    if row["refunded"] > row["paid"] or row["over_refunded"]:
        found.append(
            Mismatch("refunded_more_than_paid", f"refunded {row['refunded']} of {row['paid']} paid")
        )
    for number in row["bad_totals"] or ():
        found.append(Mismatch("invoice_total_mismatch", f"invoice {number}: total != lines + tax"))
    currencies = {*(row["invoice_currencies"] or ()), *(row["payment_currencies"] or ())}
    if currencies - {row["currency"]}:
        others = ", ".join(sorted(currencies - {row["currency"]}))
        found.append(
            Mismatch("currency_mismatch", f"order in {row['currency']}, money in {others}")
        )
    for number in row["foreign_paid"] or ():
        found.append(
            Mismatch("currency_mismatch", f"invoice {number} has a payment in another currency")
        )
    if row["credit"] < 0:
        found.append(
            Mismatch(
                "payment_not_recorded",
                f"invoices hold {-row['credit']} more in payments than were recorded",
            )
        )
    for number in row["missing_fx"] or ():
        found.append(Mismatch("missing_fx_rate", f"invoice {number} has no rate to base"))
    return found


def reconcile(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    placed_from: datetime | None,
    placed_to: datetime | None,
    store: str | None,
    stores: frozenset[str] | None = None,
) -> Reconciliation:
    """`stores`: the caller's store scope (None: every store)."""
    curs.execute(
        RECONCILE,
        {
            "tenant": tenant_id,
            "from": placed_from,
            "to": placed_to,
            "store": store,
            "stores": _sorted(stores),
        },
    )
    orders: list[OrderReconciliation] = []
    totals: dict[str, Totals] = {}
    for row in curs.fetchall():
        item = OrderReconciliation(
            order_id=row["order_id"],
            store=row["store"],
            currency=row["currency"],
            ordered=row["ordered"],
            shipped_value=row["shipped_value"],
            invoiced=row["invoiced"],
            tax=row["tax"],
            paid=row["paid"],
            refunded=row["refunded"],
            credit=max(row["credit"], ZERO),
            outstanding=row["outstanding"],
            overpaid=row["overpaid"],
            mismatches=_mismatches(row),
        )
        orders.append(item)
        total = totals.setdefault(item.currency, Totals(item.currency))
        for field in MONEY_FIELDS:
            setattr(total, field, getattr(total, field) + getattr(item, field))
        total.mismatches += len(item.mismatches)
    return Reconciliation(orders, list(totals.values()))


BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


class AgeingBucket(msgspec.Struct):
    bucket: str
    currency: str
    invoices: int
    outstanding: Decimal


def ageing(
    curs: Cursor[DictRow], tenant_id: UUID, now: datetime, stores: frozenset[str] | None = None
) -> list[AgeingBucket]:
    """`stores`: the caller's store scope (None: every store)."""
    curs.execute(
        """SELECT CASE WHEN due_at >= %(now)s THEN 'current'
                WHEN %(now)s - due_at <= interval '30 days' THEN '1-30'
                WHEN %(now)s - due_at <= interval '60 days' THEN '31-60'
                WHEN %(now)s - due_at <= interval '90 days' THEN '61-90'
                ELSE '90+' END AS bucket, currency, count(*) AS invoices,
                sum(balance) AS outstanding
           FROM invoices_view WHERE tenant_id = %(tenant)s AND NOT voided AND balance > 0
             AND (%(stores)s::text[] IS NULL OR store = ANY(%(stores)s))
           GROUP BY 1, 2""",
        {"tenant": tenant_id, "now": now, "stores": _sorted(stores)},
    )
    found = {(r["bucket"], r["currency"]): r for r in curs.fetchall()}
    currencies = sorted({currency for _, currency in found}) or ["EUR"]
    return [
        AgeingBucket(
            bucket,
            currency,
            int(found[(bucket, currency)]["invoices"]) if (bucket, currency) in found else 0,
            found[(bucket, currency)]["outstanding"] if (bucket, currency) in found else ZERO,
        )
        for currency in currencies
        for bucket in BUCKETS
    ]


def payments(
    curs: Cursor[DictRow], tenant_id: UUID, stores: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """Payments and refunds; with `stores`, only those of orders of these stores."""
    curs.execute(
        "SELECT p.id, p.kind, p.order_id, p.invoice_id, p.amount, p.currency, p.method, "
        "p.gateway, p.gateway_reference, p.at FROM billing_payments p WHERE p.tenant_id = %(t)s "
        "AND (%(stores)s::text[] IS NULL OR EXISTS (SELECT 1 FROM billing_orders o "
        "WHERE o.tenant_id = p.tenant_id AND o.order_id = p.order_id "
        "AND o.store = ANY(%(stores)s))) ORDER BY p.at, p.id",
        {"t": tenant_id, "stores": _sorted(stores)},
    )
    return [dict(row) for row in curs.fetchall()]


class PayoutMatch(msgspec.Struct):
    status: str  # matched | missing_in_kontor | missing_at_gateway | amount_differs
    kind: str
    reference: str
    currency: str
    gateway_amount: Decimal | None
    kontor_amount: Decimal | None


class PayoutImport(msgspec.Struct, frozen=True):
    import_id: UUID
    gateway: str
    lines: int
    imported_at: datetime


def payout_imports(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 50,
) -> list[PayoutImport]:
    """Payout files imported, newest first."""
    curs.execute(
        "SELECT import_id, gateway, lines, imported_at FROM payout_imports "
        "WHERE tenant_id = %(tenant)s AND (%(at)s::timestamptz IS NULL "
        "OR (imported_at, import_id) < (%(at)s, %(id)s)) "
        "ORDER BY imported_at DESC, import_id DESC LIMIT %(limit)s",
        {
            "tenant": tenant_id,
            "at": after[0] if after else None,
            "id": after[1] if after else None,
            "limit": limit,
        },
    )
    return msgspec.convert(curs.fetchall(), list[PayoutImport])


def payout_import(curs: Cursor[DictRow], tenant_id: UUID, import_id: UUID) -> PayoutImport:
    curs.execute(
        "SELECT import_id, gateway, lines, imported_at FROM payout_imports "
        "WHERE tenant_id = %s AND import_id = %s",
        (tenant_id, import_id),
    )
    return msgspec.convert(curs.fetchone(), PayoutImport)


PAYOUT_MATCHES = """
WITH f AS (SELECT kind, reference, amount, currency, row_no FROM payout_lines
           WHERE tenant_id = %(tenant)s AND import_id = %(import)s),
k AS (SELECT p.kind, p.gateway_reference AS reference, p.amount, p.currency, p.at, o.store
      FROM billing_payments p LEFT JOIN billing_orders o
        ON o.tenant_id = p.tenant_id AND o.order_id = p.order_id
      WHERE p.tenant_id = %(tenant)s AND p.gateway = %(gateway)s)
SELECT status, kind, reference, currency, gateway_amount, kontor_amount FROM (
    SELECT CASE WHEN k.reference IS NULL THEN 'missing_in_kontor'
                WHEN k.amount <> f.amount OR k.currency <> f.currency THEN 'amount_differs'
                ELSE 'matched' END AS status,
        f.kind, f.reference, f.currency, f.amount AS gateway_amount, k.amount AS kontor_amount,
        f.row_no AS position, k.store
    FROM f LEFT JOIN k USING (kind, reference)
    UNION ALL
    SELECT 'missing_at_gateway', k.kind, k.reference, k.currency, NULL, k.amount,
        2147483647, k.store
    FROM k WHERE k.at <= %(at)s AND NOT EXISTS (
        SELECT 1 FROM payout_lines l JOIN payout_imports i USING (tenant_id, import_id)
        WHERE l.tenant_id = %(tenant)s AND l.reference = k.reference AND l.kind = k.kind
          AND i.gateway = %(gateway)s AND i.imported_at <= %(at)s)
) matches WHERE %(stores)s::text[] IS NULL OR store = ANY(%(stores)s)
ORDER BY position, reference
"""


def payout_matches(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    payout: PayoutImport,
    stores: frozenset[str] | None = None,
) -> list[PayoutMatch]:
    """A payout file's lines matched with the payments and refunds recorded for its gateway
    (by kind and gateway reference), and what Kontor recorded for that gateway up to the import
    that neither this payout nor an earlier one of the gateway paid out (missing_at_gateway).
    With `stores` (a caller's scope), only lines of payments of those stores' orders: a line
    Kontor has no payment for belongs to no store, so such a caller does not see it."""
    curs.execute(
        PAYOUT_MATCHES,
        {
            "tenant": tenant_id,
            "import": payout.import_id,
            "gateway": payout.gateway,
            "at": payout.imported_at,
            "stores": _sorted(stores),
        },
    )
    return msgspec.convert(curs.fetchall(), list[PayoutMatch])


def _sorted(stores: frozenset[str] | None) -> list[str] | None:
    return None if stores is None else sorted(stores)
