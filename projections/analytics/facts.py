"""From events to analytics rows: one handler per event type the fact tables know.

An event type without a handler (say, one another part of Kontor added since) still lands in
`events`, raw with its metadata; the fact tables ignore it until a handler is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec

from application.ports import Metadata
from domain.invoice.events import (
    CreditNoteIssued,
    InvoiceIssued,
    InvoiceVoided,
    OverpaymentRefunded,
    PaymentApplied,
)
from domain.invoice.pricing import LineCharge, line_discount, order_discount, round_to, split
from domain.order.events import (
    Discount,
    DiscountKind,
    OrderLine,
    OrderLinesCancelled,
    OrderLinesEdited,
    OrderPlaced,
)
from domain.payment.events import PaymentRecorded, RefundRecorded, RefundShare
from domain.returns.events import ReturnAuthorized
from domain.shared import ids
from domain.shared.events import DomainEvent
from domain.shared.money import Money
from domain.shipment.events import (
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentLabelled,
    ShipmentLinesDropped,
    ShipmentPacked,
    ShipmentShipped,
)
from domain.stock.events import (
    StockAdjusted,
    StockCommitted,
    StockEvent,
    StockReceived,
    StockReservationExpired,
    StockReservationReleased,
    StockReserved,
    StockRestocked,
    StockTransferredIn,
    StockTransferredOut,
)
from projections.analytics.folds import Fold, Key, Row, group_key, touch

ZERO = Decimal(0)

ORDER_LINE_COLUMNS = [
    "tenant_id", "order_id", "line_no", "store", "channel", "country", "region", "customer", "sku",
    "quantity", "unit_price", "gross", "discount", "net", "currency", "cancelled_quantity",
    "cancelled_value", "shipped_quantity", "invoiced_tax", "base_currency", "fx_rate", "placed_at",
    "shipped_at", "cancelled_at", "line_discount_terms", "order_discount_terms", "version"
]  # fmt: skip
SHIPMENT_COLUMNS = [
    "tenant_id", "shipment_id", "order_id", "store", "location", "carrier", "service", "cost",
    "cost_currency", "weight_grams", "units", "short_units", "value", "order_placed_at",
    "created_at", "shipped_at", "delivered_at", "version"
]  # fmt: skip
INVOICE_COLUMNS = [
    "tenant_id", "invoice_id", "number", "order_id", "shipment_id", "store", "currency",
    "subtotal", "discount", "shipping", "tax", "total", "base_currency", "fx_rate", "paid",
    "credited", "refunded", "voided", "issued_at", "voided_at", "version"
]  # fmt: skip
STOCK_COLUMNS = [
    "tenant_id", "position", "sku", "location", "kind", "on_hand_delta", "reserved_delta",
    "unit_cost", "order_id", "at"
]  # fmt: skip
RETURN_COLUMNS = [
    "tenant_id", "return_id", "line_no", "order_id", "store", "sku", "quantity", "reason",
    "category", "authorized_at"
]  # fmt: skip
PAYMENT_COLUMNS = [
    "tenant_id", "id", "kind", "order_id", "customer", "store", "invoice_id", "amount", "returned",
    "currency", "method", "gateway", "reason", "at"
]  # fmt: skip


# Events that open a folded group, change an invoice's row, or a shipment's row only.
OPENS = frozenset((OrderPlaced, ShipmentCreated, InvoiceIssued))
INVOICE_CHANGES = frozenset((PaymentApplied, CreditNoteIssued, OverpaymentRefunded, InvoiceVoided))
SHIPMENT_PROGRESS = frozenset(
    (ShipmentLinesDropped, ShipmentPacked, ShipmentLabelled, ShipmentDelivered)
)


class Facts:
    """The rows one batch of events produces: appended rows per table and three folds."""

    def __init__(self) -> None:
        self.order_lines = Fold("order_lines", ("tenant_id", "order_id"), ORDER_LINE_COLUMNS)
        self.shipments = Fold("shipments", ("tenant_id", "shipment_id"), SHIPMENT_COLUMNS)
        self.invoices = Fold("invoices", ("tenant_id", "invoice_id"), INVOICE_COLUMNS)
        self.folds = (self.order_lines, self.shipments, self.invoices)
        self.appended: dict[str, list[tuple[Any, ...]]] = {}

    def needs(
        self, stream_id: UUID, version: int, event: DomainEvent, tenant: UUID
    ) -> list[tuple[Fold, Key]]:
        """The folded groups an event will read or change (loaded before the batch applies).
        An event that opens its stream opens its group too: there is nothing to load (after a
        crash, the replay rebuilds the same rows from this event on)."""
        # Types in sets and tuples: an `isinstance` with `A | B` builds the union on every call
        # (a tenth of the time this method took).
        kind = type(event)
        if version == 1 and kind in OPENS:
            {OrderPlaced: self.order_lines, ShipmentCreated: self.shipments}.get(
                kind, self.invoices
            ).fresh(group_key(tenant, stream_id))
        if kind is OrderPlaced or kind is OrderLinesCancelled or kind is OrderLinesEdited:
            return [(self.order_lines, group_key(tenant, stream_id))]
        if kind in INVOICE_CHANGES:
            return [(self.invoices, group_key(tenant, stream_id))]
        if isinstance(event, (ShipmentCreated, ShipmentShipped)):
            return [
                (self.order_lines, group_key(tenant, event.order_id)),
                (self.shipments, group_key(tenant, event.shipment_id)),
            ]
        if kind in SHIPMENT_PROGRESS:
            return [(self.shipments, group_key(tenant, stream_id))]
        if isinstance(event, InvoiceIssued):
            return [
                (self.order_lines, group_key(tenant, event.order_id)),
                (self.invoices, group_key(tenant, event.invoice_id)),
            ]
        if kind is RefundRecorded:
            # Its customer and store are the order's. Reading the order's lines also puts the
            # order's day among the batch's touched days, so its customer's totals are
            # recomputed with what the refund took back (after the payments are written). Its
            # credit notes' invoices say how much of them was goods.
            return [
                (self.order_lines, group_key(tenant, event.order_id)),
                *(
                    (self.invoices, group_key(tenant, share.invoice_id))
                    for share in event.shares
                    if share.credit_note_id is not None
                ),
            ]
        return []

    def append(self, table: str, row: tuple[Any, ...]) -> None:
        self.appended.setdefault(table, []).append(row)

    def apply(self, position: int, stream_id: UUID, event: DomainEvent, meta: Metadata) -> None:
        handler = HANDLERS.get(type(event))
        if handler is not None:
            handler(self, position, stream_id, event, meta)


Handler = Callable[[Facts, int, UUID, Any, Metadata], None]
HANDLERS: dict[type[DomainEvent], Handler] = {}


def handles(*types: type[DomainEvent]) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for cls in types:
            HANDLERS[cls] = handler
        return handler

    return register


# --- orders ---------------------------------------------------------------------------------


def line_discounts(
    lines: Sequence[OrderLine], discount: Discount | None, currency: str
) -> list[Decimal]:
    """Each line's own discount plus its share of the order's, as invoicing computes them when
    the whole order is invoiced at once (ADR 0017)."""
    if discount is None and all(line.discount is None for line in lines):
        return [ZERO] * len(lines)
    own = [
        line_discount(
            LineCharge(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                ordered=line.quantity,
                before=0,
                unit_price=line.unit_price.amount,
                discount=line.discount,
            ),
            currency,
        )
        for line in lines
    ]
    nets = [line.unit_price.amount * line.quantity - d for line, d in zip(lines, own, strict=True)]
    fixed = discount.value if discount and discount.kind is DiscountKind.FIXED else ZERO
    whole = order_discount(discount, sum(nets, ZERO), fixed, currency)
    return [d + share for d, share in zip(own, split(whole, nets, currency), strict=True)]


# A line's own discount and its order's, as JSON ('' for none): an edit re-splits the order's
# discount over its lines, which needs the terms and not only the amounts (ADR 0057).
_terms_decoder = msgspec.json.Decoder(Discount | None)


def discount_terms(discount: Discount | None) -> str:
    return "" if discount is None else msgspec.json.encode(discount).decode()


def discount_of(terms: str) -> Discount | None:
    return _terms_decoder.decode(terms) if terms else None


def cancelled_value(line: Row) -> Decimal:
    """What the line's cancelled units no longer bring in: their price less their share of the
    line's discount, proportional to the units and rounded to the currency's minor unit (half
    to even, as invoicing rounds). Taken from the units cancelled so far, so cancelling in
    steps ends where cancelling at once does, and a line cancelled in full is its net."""
    quantity, cancelled = line["quantity"], line["cancelled_quantity"]
    if not quantity:
        return ZERO
    share = round_to(line["discount"] * cancelled / quantity, line["currency"])
    return line["unit_price"] * cancelled - share


def customer_key(tenant_id: UUID, event: OrderPlaced) -> str:
    """Analytics know customers by id only, never by email (ADR 0035). Orders from before
    customers had ids get a stable stand-in derived from the email (which is not stored)."""
    if event.customer_id is not None:
        return str(event.customer_id)
    return str(ids.stream_id(tenant_id, "customer", event.customer.email.strip().lower()))


@lru_cache(maxsize=1_024)
def tenant_text(tenant_id: UUID) -> str:
    """A tenant's id as the rows hold it: formatted once, not for every event."""
    return str(tenant_id)


@handles(OrderPlaced)
def _placed(
    facts: Facts, position: int, stream_id: UUID, event: OrderPlaced, meta: Metadata
) -> None:
    group = group_key(meta.tenant_id, event.order_id)
    rows = facts.order_lines.get(group)
    if rows:
        return  # placed once; a replay finds the lines already there
    address = event.shipping_address
    tenant, order = tenant_text(meta.tenant_id), str(event.order_id)
    customer = customer_key(meta.tenant_id, event)
    discounts = line_discounts(event.lines, event.discount, event.currency)
    order_terms = discount_terms(event.discount)
    for line, discount in zip(event.lines, discounts, strict=True):
        gross = line.unit_price.amount * line.quantity
        row = {
            "tenant_id": tenant,
            "order_id": order,
            "line_no": line.line_no,
            "store": event.store,
            "channel": event.channel,
            "country": address.country,
            "region": address.region or "",
            "customer": customer,
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price.amount,
            "gross": gross,
            "discount": discount,
            "net": gross - discount,
            "currency": event.currency,
            "cancelled_quantity": 0,
            "cancelled_value": ZERO,
            "shipped_quantity": 0,
            "invoiced_tax": ZERO,
            "base_currency": "",
            "fx_rate": None,
            "placed_at": event.placed_at,
            "shipped_at": None,
            "cancelled_at": None,
            "line_discount_terms": discount_terms(line.discount),
            "order_discount_terms": order_terms,
        }
        touch(row, position)
        rows.append(row)


@handles(OrderLinesEdited)
def _lines_edited(
    facts: Facts, position: int, stream_id: UUID, event: OrderLinesEdited, meta: Metadata
) -> None:
    """Quantities raised and lines added before picking (lowered ones are cancellations): the
    lines are re-priced as a whole, since the order's discount is shared over all of them."""
    group = group_key(meta.tenant_id, stream_id)
    rows = facts.order_lines.get(group)
    if not rows or facts.order_lines.version(group) >= position:
        return
    by_no = {row["line_no"]: row for row in rows}
    for more in event.increased:
        if more.line_no in by_no:
            by_no[more.line_no]["quantity"] += more.quantity
    order = rows[0]
    for new in event.added:
        if new.line_no in by_no:
            continue
        row = order | {
            "line_no": new.line_no,
            "sku": new.sku,
            "quantity": new.quantity,
            "unit_price": new.unit_price.amount,
            "cancelled_quantity": 0,
            "shipped_quantity": 0,
            "invoiced_tax": ZERO,
            "base_currency": "",
            "fx_rate": None,
            "shipped_at": None,
            "cancelled_at": None,
            "line_discount_terms": discount_terms(new.discount),
        }
        rows.append(row)
        by_no[new.line_no] = row
    # In line order, as invoicing shares the order's discount out (its remainders go by order).
    ordered = [by_no[no] for no in sorted(by_no)]
    lines = [
        OrderLine(
            row["line_no"],
            row["sku"],
            row["quantity"],
            Money(row["unit_price"], row["currency"]),
            discount_of(row["line_discount_terms"]),
        )
        for row in ordered
    ]
    discounts = line_discounts(lines, discount_of(order["order_discount_terms"]), order["currency"])
    for row, discount in zip(ordered, discounts, strict=True):
        row["gross"] = row["unit_price"] * row["quantity"]
        row["discount"] = discount
        row["net"] = row["gross"] - discount
        row["cancelled_value"] = cancelled_value(row)
        touch(row, position)


@handles(OrderLinesCancelled)
def _lines_cancelled(
    facts: Facts, position: int, stream_id: UUID, event: OrderLinesCancelled, meta: Metadata
) -> None:
    group = group_key(meta.tenant_id, stream_id)
    if facts.order_lines.version(group) >= position:
        return
    by_no = {row["line_no"]: row for row in facts.order_lines.get(group)}
    for cancelled in event.lines:
        row = by_no.get(cancelled.line_no)
        if row is not None:
            row["cancelled_quantity"] += cancelled.quantity
            row["cancelled_value"] = cancelled_value(row)
            row["cancelled_at"] = meta.recorded_at
            touch(row, position)


# --- shipments ------------------------------------------------------------------------------


@handles(ShipmentCreated)
def _shipment_created(
    facts: Facts, position: int, stream_id: UUID, event: ShipmentCreated, meta: Metadata
) -> None:
    rows = facts.shipments.get(group_key(meta.tenant_id, event.shipment_id))
    if rows:
        return
    lines = facts.order_lines.get(group_key(meta.tenant_id, event.order_id))
    row = {
        "tenant_id": tenant_text(meta.tenant_id),
        "shipment_id": str(event.shipment_id),
        "order_id": str(event.order_id),
        "store": event.store,
        "location": event.location,
        "carrier": "",
        "service": "",
        "cost": ZERO,
        "cost_currency": "",
        "weight_grams": 0,
        "units": sum(line.quantity for line in event.lines),
        "short_units": 0,
        "value": ZERO,
        "order_placed_at": event.order_placed_at or (lines[0]["placed_at"] if lines else None),
        "created_at": event.created_at,
        "shipped_at": None,
        "delivered_at": None,
    }
    touch(row, position)
    rows.append(row)


@handles(ShipmentShipped)
def _shipment_shipped(
    facts: Facts, position: int, stream_id: UUID, event: ShipmentShipped, meta: Metadata
) -> None:
    # The order's lines and the shipment are separate rows, written apart: each is checked
    # against its own version, so a replay after a crash between them applies only what
    # is missing.
    order_key = group_key(meta.tenant_id, event.order_id)
    lines = {row["line_no"]: row for row in facts.order_lines.get(order_key)}
    value = sum(
        (
            lines[ln.line_no]["unit_price"] * ln.quantity
            for ln in event.lines
            if ln.line_no in lines
        ),
        ZERO,
    )
    if facts.order_lines.version(order_key) < position:
        for line in event.lines:
            row = lines.get(line.line_no)
            if row is not None:
                row["shipped_quantity"] += line.quantity
                row["shipped_at"] = event.shipped_at
                touch(row, position)
    group = group_key(meta.tenant_id, event.shipment_id)
    if facts.shipments.version(group) >= position:
        return
    rows = facts.shipments.get(group)
    if not rows:  # shipped without a ShipmentCreated we saw: record what we know
        created = ShipmentCreated(
            shipment_id=event.shipment_id,
            order_id=event.order_id,
            store=event.store,
            location=event.location,
            lines=event.lines,
            created_at=event.shipped_at,
        )
        _shipment_created(facts, position, stream_id, created, meta)
    row = rows[0]
    shipped = sum(line.quantity for line in event.lines)
    row["short_units"] = max(row["units"] - shipped, 0)
    row["units"] = shipped
    row["value"] = value
    row["shipped_at"] = event.shipped_at
    row["carrier"] = event.carrier or row["carrier"]
    row["service"] = event.service or row["service"]
    if row["order_placed_at"] is None and lines:
        row["order_placed_at"] = next(iter(lines.values()))["placed_at"]
    touch(row, position)


def _shipment_row(facts: Facts, position: int, stream_id: UUID, meta: Metadata) -> Any:
    """The shipment's row to change, or None (unknown shipment, or the event is applied)."""
    rows = facts.shipments.get(group_key(meta.tenant_id, stream_id))
    if not rows or rows[0]["version"] >= position:
        return None
    touch(rows[0], position)
    return rows[0]


@handles(*SHIPMENT_PROGRESS)
def _shipment_progressed(
    facts: Facts, position: int, stream_id: UUID, event: Any, meta: Metadata
) -> None:
    row = _shipment_row(facts, position, stream_id, meta)
    if row is None:
        return
    if isinstance(event, ShipmentLinesDropped):
        # Units cancelled off the order before picking no longer ship here: not short picks.
        row["units"] -= sum(line.quantity for line in event.lines)
    elif isinstance(event, ShipmentPacked):
        row["weight_grams"] = sum(parcel.weight_grams for parcel in event.parcels)
    elif isinstance(event, ShipmentLabelled):
        row["carrier"], row["service"] = event.carrier, event.service
        row["cost"], row["cost_currency"] = event.cost.amount, event.cost.currency
    else:
        row["delivered_at"] = event.delivered_at


@handles(ReturnAuthorized)
def _return_authorized(
    facts: Facts, position: int, _: UUID, event: ReturnAuthorized, meta: Metadata
) -> None:
    for line in event.lines:
        facts.append(
            "return_lines",
            (
                meta.tenant_id, event.return_id, line.line_no, event.order_id, event.store,
                line.sku, line.quantity, line.reason, line.category, event.authorized_at,
            ),
        )  # fmt: skip


# --- stock ----------------------------------------------------------------------------------


def _movement(
    facts: Facts, position: int, event: StockEvent, meta: Metadata, kind: str, **values: Any
) -> None:
    facts.append(
        "stock_movements",
        (
            meta.tenant_id,
            position,
            event.sku,
            event.location,
            kind,
            values.get("on_hand", 0),
            values.get("reserved", 0),
            values.get("unit_cost"),
            values.get("order_id"),
            meta.recorded_at,
        ),
    )


@handles(StockReceived, StockAdjusted, StockTransferredIn, StockTransferredOut)
def _stock_moved(facts: Facts, position: int, _: UUID, event: Any, meta: Metadata) -> None:
    if isinstance(event, StockReceived):
        cost = event.unit_cost.amount if event.unit_cost else None
        _movement(facts, position, event, meta, "receipt", on_hand=event.quantity, unit_cost=cost)
    elif isinstance(event, StockAdjusted):
        _movement(facts, position, event, meta, "adjustment", on_hand=event.delta)
    elif isinstance(event, StockTransferredIn):
        _movement(facts, position, event, meta, "transfer_in", on_hand=event.quantity)
    else:
        _movement(facts, position, event, meta, "transfer_out", on_hand=-event.quantity)


@handles(StockCommitted, StockRestocked)
def _stock_left(facts: Facts, position: int, _: UUID, event: Any, meta: Metadata) -> None:
    if isinstance(event, StockCommitted):
        _movement(
            facts, position, event, meta, "committed", on_hand=-event.quantity,
            reserved=-event.quantity, order_id=event.order_id,
        )  # fmt: skip
    else:
        _movement(facts, position, event, meta, "restocked", on_hand=event.quantity)


@handles(StockReserved, StockReservationReleased, StockReservationExpired)
def _stock_reserved(facts: Facts, position: int, _: UUID, event: Any, meta: Metadata) -> None:
    if isinstance(event, StockReservationExpired):
        _movement(
            facts, position, event, meta, "expired", reserved=-event.quantity,
            order_id=event.order_id,
        )  # fmt: skip
    elif isinstance(event, StockReserved):
        _movement(
            facts, position, event, meta, "reserved", reserved=event.quantity,
            order_id=event.order_id,
        )  # fmt: skip
    else:
        _movement(
            facts, position, event, meta, "released", reserved=-event.quantity,
            order_id=event.order_id,
        )  # fmt: skip


# --- money ----------------------------------------------------------------------------------


@handles(InvoiceIssued)
def _invoice_issued(
    facts: Facts, position: int, stream_id: UUID, event: InvoiceIssued, meta: Metadata
) -> None:
    conversion = event.conversion
    order_key = group_key(meta.tenant_id, event.order_id)
    if facts.order_lines.version(order_key) < position:
        by_no = {r["line_no"]: r for r in facts.order_lines.get(order_key)}
        for line in event.lines:
            target = by_no.get(line.line_no)
            if target is not None:
                target["invoiced_tax"] += line.tax.amount
                if conversion is not None:
                    target["base_currency"] = conversion.base_currency
                    target["fx_rate"] = conversion.rate
                touch(target, position)
    rows = facts.invoices.get(group_key(meta.tenant_id, event.invoice_id))
    if rows:
        return
    row = {
        "tenant_id": tenant_text(meta.tenant_id),
        "invoice_id": str(event.invoice_id),
        "number": event.number,
        "order_id": str(event.order_id),
        "shipment_id": None if event.shipment_id is None else str(event.shipment_id),
        "store": event.store,
        "currency": event.currency,
        "subtotal": event.subtotal.amount,
        "discount": event.discount_total.amount,
        "shipping": event.shipping.amount,
        "tax": event.tax_total.amount,
        "total": event.total.amount,
        "base_currency": conversion.base_currency if conversion else "",
        "fx_rate": conversion.rate if conversion else None,
        "paid": ZERO,
        "credited": ZERO,
        "refunded": ZERO,
        "voided": 0,
        "issued_at": event.issued_at,
        "voided_at": None,
    }
    touch(row, position)
    rows.append(row)


def _goods_returned(facts: Facts, tenant_id: UUID, share: RefundShare) -> Decimal:
    """The part of a credit note that took back goods as gross sales count them: its share of
    the invoice's lines after discounts (`subtotal - discount`, in the store's pricing), not of
    shipping or, where prices exclude it, tax (credit notes take those back pro rata)."""
    amount = share.amount.amount
    rows = facts.invoices.get(group_key(tenant_id, share.invoice_id))
    if not rows or not rows[0]["total"]:
        return amount
    invoice = rows[0]
    goods = invoice["subtotal"] - invoice["discount"]
    return round_to(amount * goods / invoice["total"], share.amount.currency)


def _invoice_changed(
    facts: Facts, position: int, stream_id: UUID, meta: Metadata
) -> dict[str, Any] | None:
    group = group_key(meta.tenant_id, stream_id)
    rows = facts.invoices.get(group)
    if not rows or rows[0]["version"] >= position:
        return None
    touch(rows[0], position)
    return rows[0]


@handles(*INVOICE_CHANGES)
def _invoice_updated(
    facts: Facts, position: int, stream_id: UUID, event: Any, meta: Metadata
) -> None:
    row = _invoice_changed(facts, position, stream_id, meta)
    if row is None:
        return
    if isinstance(event, PaymentApplied):
        row["paid"] += event.amount.amount
    elif isinstance(event, CreditNoteIssued):
        row["credited"] += event.amount.amount
        if event.refund_id is not None:
            row["refunded"] += event.amount.amount
    elif isinstance(event, OverpaymentRefunded):
        # Paid beyond the invoice and given back: refunded, with nothing credited (ADR 0058).
        row["refunded"] += event.amount.amount
    else:
        row["voided"] = 1
        row["voided_at"] = event.voided_at


@handles(PaymentRecorded, RefundRecorded)
def _money_moved(facts: Facts, position: int, _: UUID, event: Any, meta: Metadata) -> None:
    if isinstance(event, PaymentRecorded):
        row: tuple[Any, ...] = (
            meta.tenant_id, event.payment_id, "payment", event.order_id, "", "",
            event.invoice_id, event.amount.amount, ZERO, event.amount.currency, event.method,
            event.gateway, "", event.received_at,
        )  # fmt: skip
    else:
        # What the refund took back of the sales: its credit notes' goods. Overpayments and
        # held credit given back were never sales (ADR 0059). The order's customer and store
        # come along: returns lower a customer's lifetime value.
        returned = sum(
            (_goods_returned(facts, meta.tenant_id, s) for s in event.shares if s.credit_note_id),
            ZERO,
        )
        lines = facts.order_lines.get(group_key(meta.tenant_id, event.order_id))
        customer, store = (lines[0]["customer"], lines[0]["store"]) if lines else ("", "")
        row = (
            meta.tenant_id, event.refund_id, "refund", event.order_id, customer, store, None,
            event.amount.amount, returned, event.amount.currency, "", event.gateway or "",
            event.reason, event.refunded_at,
        )  # fmt: skip
    facts.append("payments", row)
