"""Stock movements: every receipt, adjustment, transfer, reservation and its ending, and
restock of a SKU x location, one row per event, with time and reference: the history behind
the cumulative counters of inventory_levels. The inventory projection writes both tables in one
transaction (same events, one runner, one tracking position), so the movements of a SKU always
add up to its level."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import singledispatch
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from application.ports import Recorded
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

MOVEMENTS_DDL = (
    """CREATE TABLE IF NOT EXISTS stock_movements (
        seq bigserial NOT NULL,
        tenant_id uuid NOT NULL,
        stream_id uuid NOT NULL,
        version bigint NOT NULL,
        sku text NOT NULL,
        location text NOT NULL,
        kind text NOT NULL,
        quantity int NOT NULL,
        on_hand_change int NOT NULL,
        reserved_change int NOT NULL,
        order_id uuid,
        line_no int,
        reference text,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (stream_id, version))""",
    "CREATE INDEX IF NOT EXISTS stock_movements_sku ON stock_movements (tenant_id, sku, seq DESC)",
)

INSERT = """
INSERT INTO stock_movements (tenant_id, stream_id, version, sku, location, kind, quantity,
    on_hand_change, reserved_change, order_id, line_no, reference, actor, occurred_at)
VALUES (%(tenant_id)s, %(stream_id)s, %(version)s, %(sku)s, %(location)s, %(kind)s,
    %(quantity)s, %(on_hand_change)s, %(reserved_change)s, %(order_id)s, %(line_no)s,
    %(reference)s, %(actor)s, %(occurred_at)s)
ON CONFLICT (stream_id, version) DO NOTHING
"""

KINDS = (
    "received",
    "adjusted",
    "transferred_out",
    "transferred_in",
    "reserved",
    "released",
    "committed",
    "expired",
    "restocked",
)


class Movement(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    quantity: int
    on_hand_change: int = 0
    reserved_change: int = 0
    order_id: UUID | None = None
    line_no: int | None = None
    reference: str | None = None


@singledispatch
def movement(event: StockEvent) -> Movement | None:
    """Bins, policies and LowStock move nothing."""
    return None


@movement.register
def _(event: StockReceived) -> Movement:
    return Movement(
        kind="received",
        quantity=event.quantity,
        on_hand_change=event.quantity,
        reference=event.reference,
    )


@movement.register
def _(event: StockAdjusted) -> Movement:
    return Movement(
        kind="adjusted",
        quantity=abs(event.delta),
        on_hand_change=event.delta,
        reference=event.reason,
    )


@movement.register
def _(event: StockTransferredOut) -> Movement:
    return Movement(
        kind="transferred_out",
        quantity=event.quantity,
        on_hand_change=-event.quantity,
        reference=f"transfer {event.transfer_id} to {event.to_location}",
    )


@movement.register
def _(event: StockTransferredIn) -> Movement:
    return Movement(
        kind="transferred_in",
        quantity=event.quantity,
        on_hand_change=event.quantity,
        reference=f"transfer {event.transfer_id} from {event.from_location}",
    )


@movement.register
def _(event: StockReserved) -> Movement:
    return Movement(
        kind="reserved",
        quantity=event.quantity,
        reserved_change=event.quantity,
        order_id=event.order_id,
        line_no=event.line_no,
    )


@movement.register
def _(event: StockReservationReleased) -> Movement:
    return Movement(
        kind="released",
        quantity=event.quantity,
        reserved_change=-event.quantity,
        order_id=event.order_id,
        line_no=event.line_no,
        reference=event.reason,
    )


@movement.register
def _(event: StockCommitted) -> Movement:
    return Movement(
        kind="committed",
        quantity=event.quantity,
        on_hand_change=-event.quantity,
        reserved_change=-event.quantity,
        order_id=event.order_id,
        line_no=event.line_no,
        reference=f"shipment {event.shipment_id}",
    )


@movement.register
def _(event: StockReservationExpired) -> Movement:
    return Movement(
        kind="expired",
        quantity=event.quantity,
        reserved_change=-event.quantity,
        order_id=event.order_id,
        line_no=event.line_no,
    )


@movement.register
def _(event: StockRestocked) -> Movement:
    return Movement(
        kind="restocked",
        quantity=event.quantity,
        on_hand_change=event.quantity,
        reference=f"return {event.return_id}",
    )


def write_movements(curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None:
    """Inserts a row per movement of the batch; a (stream, version) already there is skipped,
    so a replayed event is inserted once."""
    rows = []
    for recorded in batch:
        event = recorded.event
        assert isinstance(event, StockEvent)
        moved = movement(event)
        if moved is None:
            continue
        rows.append(
            msgspec.structs.asdict(moved)
            | {
                "tenant_id": recorded.metadata.tenant_id,
                "stream_id": recorded.originator_id,
                "version": recorded.originator_version,
                "sku": event.sku,
                "location": event.location,
                "actor": recorded.metadata.actor,
                "occurred_at": recorded.timestamp,
            }
        )
    if rows:
        curs.executemany(INSERT, rows)


class MovementRow(msgspec.Struct, frozen=True):
    seq: int
    sku: str
    location: str
    kind: str
    quantity: int
    on_hand_change: int
    reserved_change: int
    order_id: UUID | None
    line_no: int | None
    reference: str | None
    actor: str
    occurred_at: datetime


SCOPED_COLUMNS = """m.seq, m.sku, m.location, m.kind, m.quantity, m.on_hand_change,
    m.reserved_change, m.actor, m.occurred_at,
    CASE WHEN mine THEN m.order_id END AS order_id, CASE WHEN mine THEN m.line_no END AS line_no,
    CASE WHEN mine THEN m.reference END AS reference
FROM stock_movements m
LEFT JOIN orders_view o ON o.tenant_id = m.tenant_id AND o.id = m.order_id
LEFT JOIN returns_view r ON m.kind = 'restocked' AND r.tenant_id = m.tenant_id
    AND m.reference = 'return ' || r.id
CROSS JOIN LATERAL (SELECT (m.order_id IS NULL AND r.id IS NULL)
    OR o.store = ANY(%(stores)s) OR r.store = ANY(%(stores)s) AS mine) scope"""


def list_movements(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    sku: str,
    *,
    location: str | None,
    kind: str | None,
    limit: int,
    before: int | None,
    locations: frozenset[str] | None = None,
    stores: frozenset[str] | None = None,
) -> list[MovementRow]:
    """Newest first (in the order the ledger recorded them). A caller's store scope: only
    `locations` (those fulfilling their `stores`); at a location several stores share, another
    store's reservations and shipments show their quantities but not their order or reference."""
    where = ["m.tenant_id = %(tenant)s", "m.sku = %(sku)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "sku": sku, "limit": limit}
    if locations is not None:
        where.append("m.location = ANY(%(locations)s)")
        params["locations"] = sorted(locations)
    for column, value in (("location", location), ("kind", kind)):
        if value is not None:
            where.append(f"m.{column} = %({column})s")
            params[column] = value
    if before is not None:
        where.append("m.seq < %(before)s")
        params["before"] = before
    columns = "m.* FROM stock_movements m"
    if stores is not None:
        columns, params["stores"] = SCOPED_COLUMNS, sorted(stores)
    curs.execute(
        f"SELECT {columns} WHERE {' AND '.join(where)} "  # type: ignore[arg-type]
        "ORDER BY m.seq DESC LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[MovementRow])
