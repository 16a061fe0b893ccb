"""Shipments read model: list and filters, open pick work per location, pick-list waves,
fulfilment times. The detail and its timeline come from the event stream itself."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from application.ports import Recorded
from domain.customer.model import CustomerErased
from domain.order.events import personal_address
from domain.shared.events import EVENT_TYPES
from domain.shipment.state import Shipment, ShipmentStatus, evolve
from projections.base import StreamFoldView, ViewProjection

OPEN = (ShipmentStatus.CREATED.value, ShipmentStatus.PICKING.value)

DDL = (
    """CREATE TABLE IF NOT EXISTS shipments_view (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        version bigint NOT NULL,
        order_id uuid NOT NULL,
        store text NOT NULL,
        location text NOT NULL,
        status text NOT NULL,
        priority text NOT NULL,
        units int NOT NULL,
        picked_units int NOT NULL,
        carrier text,
        service text,
        tracking_number text,
        label_cost numeric,
        label_currency text,
        exceptions int NOT NULL,
        order_placed_at timestamptz,
        created_at timestamptz NOT NULL,
        shipped_at timestamptz,
        delivered_at timestamptz,
        updated_at timestamptz NOT NULL,
        state bytea NOT NULL,
        customer_id uuid,
        PRIMARY KEY (tenant_id, id))""",
    "ALTER TABLE shipments_view ADD COLUMN IF NOT EXISTS customer_id uuid",
    "CREATE INDEX IF NOT EXISTS shipments_view_customer ON shipments_view (customer_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS shipments_view_id ON shipments_view (id)",
    "CREATE INDEX IF NOT EXISTS shipments_view_recent "
    "ON shipments_view (tenant_id, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS shipments_view_open "
    "ON shipments_view (tenant_id, location, priority, created_at) "
    "WHERE status IN ('created', 'picking')",
)

UPSERT = """
INSERT INTO shipments_view (tenant_id, id, version, order_id, store, location, status, priority,
    units, picked_units, carrier, service, tracking_number, label_cost, label_currency,
    exceptions, order_placed_at, created_at, shipped_at, delivered_at, updated_at, state,
    customer_id)
VALUES (%(tenant_id)s, %(id)s, %(version)s, %(order_id)s, %(store)s, %(location)s, %(status)s,
    %(priority)s, %(units)s, %(picked_units)s, %(carrier)s, %(service)s, %(tracking_number)s,
    %(label_cost)s, %(label_currency)s, %(exceptions)s, %(order_placed_at)s, %(created_at)s,
    %(shipped_at)s, %(delivered_at)s, %(updated_at)s, %(state)s, %(customer_id)s)
ON CONFLICT (tenant_id, id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,
    units = EXCLUDED.units, picked_units = EXCLUDED.picked_units, carrier = EXCLUDED.carrier,
    service = EXCLUDED.service, tracking_number = EXCLUDED.tracking_number,
    label_cost = EXCLUDED.label_cost, label_currency = EXCLUDED.label_currency,
    exceptions = EXCLUDED.exceptions, shipped_at = EXCLUDED.shipped_at,
    delivered_at = EXCLUDED.delivered_at, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state
WHERE shipments_view.version < EXCLUDED.version
"""


class ShipmentsView(StreamFoldView[Shipment]):
    ddl = DDL
    table = "shipments_view"
    key_column = "id"
    state_type = Shipment
    initial = Shipment()
    evolve = staticmethod(evolve)
    upsert = UPSERT
    personal_paths = (*personal_address("destination"), "label.label")

    def stored(self, state: Shipment) -> Shipment:
        # The label document is served from the stream; the row needs no copy of it.
        if state.label is None:
            return state
        return msgspec.structs.replace(state, label=msgspec.structs.replace(state.label, label=""))

    def row(self, recorded: Recorded, state: Shipment) -> dict[str, Any]:
        label = state.label
        return {
            "tenant_id": recorded.metadata.tenant_id,
            "id": recorded.originator_id,
            "version": recorded.originator_version,
            "order_id": state.order_id,
            "store": state.store,
            "location": state.location,
            "status": str(state.status),
            "priority": state.priority,
            "units": state.units,
            "picked_units": state.picked_units,
            "carrier": label.carrier if label else None,
            "service": label.service if label else None,
            "tracking_number": label.tracking_number if label else None,
            "label_cost": label.cost.amount if label else None,
            "label_currency": label.cost.currency if label else None,
            "exceptions": state.exceptions,
            "order_placed_at": state.order_placed_at,
            "created_at": state.created_at,
            "shipped_at": state.shipped_at,
            "delivered_at": state.delivered_at,
            "updated_at": recorded.timestamp,
            "state": msgspec.json.encode(state),
            "customer_id": state.customer_id,
        }


class ShipmentsProjection(ViewProjection):
    name = "shipments_view"
    topics: ClassVar[tuple[str, ...]] = (  # type: ignore[misc]
        *(topic for topic in EVENT_TYPES if topic.startswith("shipment.")),
        CustomerErased.topic(),
    )


class ShipmentRow(msgspec.Struct, frozen=True):
    id: UUID
    version: int
    order_id: UUID
    store: str
    location: str
    status: str
    priority: str
    units: int
    picked_units: int
    carrier: str | None
    service: str | None
    tracking_number: str | None
    label_cost: Decimal | None
    label_currency: str | None
    exceptions: int
    order_placed_at: datetime | None
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    updated_at: datetime


def list_shipments(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    status: str | None,
    location: str | None,
    order_id: UUID | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
    stores: frozenset[str] | None = None,
) -> list[ShipmentRow]:
    """`stores`: the caller's store scope (None: every store)."""
    where = ["tenant_id = %(tenant)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    if stores is not None:
        where.append("store = ANY(%(stores)s)")
        params["stores"] = sorted(stores)
    for column, value in (("status", status), ("location", location), ("order_id", order_id)):
        if value is not None:
            where.append(f"{column} = %({column})s")
            params[column] = value
    if after is not None:
        where.append("(created_at, id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    curs.execute(
        f"SELECT * FROM shipments_view WHERE {' AND '.join(where)} "  # type: ignore[arg-type]
        "ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[ShipmentRow])


def open_shipments(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    location: str,
    *,
    offset: int,
    limit: int,
    stores: frozenset[str] | None = None,
) -> list[Shipment]:
    """Open shipments at a location in wave order: expedited first, then oldest first;
    `stores`: only those of orders of these stores (None: all)."""
    curs.execute(
        "SELECT state FROM shipments_view WHERE tenant_id = %s AND location = %s "
        "AND status IN ('created', 'picking') AND (%s::text[] IS NULL OR store = ANY(%s)) "
        "ORDER BY (priority = 'expedited') DESC, created_at, id OFFSET %s LIMIT %s",
        (tenant_id, location, _sorted(stores), _sorted(stores), offset, limit),
    )
    decode = msgspec.json.Decoder(Shipment).decode
    return [decode(bytes(row["state"])) for row in curs.fetchall()]


class PickWork(msgspec.Struct, frozen=True):
    location: str
    open_shipments: int
    expedited: int
    units: int
    units_picked: int
    oldest_created_at: datetime


def pick_work(
    curs: Cursor[DictRow], tenant_id: UUID, stores: frozenset[str] | None = None
) -> list[PickWork]:
    """Open shipments per location; `stores`: only those of orders of these stores."""
    curs.execute(
        "SELECT location, count(*) AS open_shipments, "
        "count(*) FILTER (WHERE priority = 'expedited') AS expedited, "
        "sum(units)::int AS units, sum(picked_units)::int AS units_picked, "
        "min(created_at) AS oldest_created_at FROM shipments_view "
        "WHERE tenant_id = %s AND status IN ('created', 'picking') "
        "AND (%s::text[] IS NULL OR store = ANY(%s)) "
        "GROUP BY location ORDER BY location",
        (tenant_id, _sorted(stores), _sorted(stores)),
    )
    return msgspec.convert(curs.fetchall(), list[PickWork])


class Durations(msgspec.Struct, frozen=True):
    count: int
    average_hours: float | None
    p50_hours: float | None
    p90_hours: float | None


class FulfilmentTimes(msgspec.Struct, frozen=True):
    placed_to_shipped: Durations
    shipped_to_delivered: Durations


def _durations(curs: Cursor[DictRow], start: str, end: str, where: str, params: Any) -> Durations:
    hours = f"extract(epoch FROM ({end} - {start})) / 3600.0"
    curs.execute(
        f"SELECT count(*) AS count, avg({hours})::float AS average_hours, "  # type: ignore[arg-type]
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours})::float AS p50_hours, "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {hours})::float AS p90_hours "
        f"FROM shipments_view WHERE {where} AND {start} IS NOT NULL AND {end} IS NOT NULL",
        params,
    )
    row = curs.fetchone()
    assert row is not None
    return msgspec.convert(row, Durations)


def fulfilment_times(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    store: str | None,
    location: str | None,
    since: datetime | None,
    stores: frozenset[str] | None = None,
) -> FulfilmentTimes:
    where = ["tenant_id = %(tenant)s"]
    params: dict[str, Any] = {"tenant": tenant_id}
    if stores is not None:
        where.append("store = ANY(%(stores)s)")
        params["stores"] = sorted(stores)
    if store:
        where.append("store = %(store)s")
        params["store"] = store
    if location:
        where.append("location = %(location)s")
        params["location"] = location
    if since is not None:
        where.append("shipped_at >= %(since)s")
        params["since"] = since
    clause = " AND ".join(where)
    return FulfilmentTimes(
        placed_to_shipped=_durations(curs, "order_placed_at", "shipped_at", clause, params),
        shipped_to_delivered=_durations(curs, "shipped_at", "delivered_at", clause, params),
    )


def bins(curs: Cursor[DictRow], tenant_id: UUID, location: str, skus: list[str]) -> dict[str, str]:
    curs.execute(
        "SELECT sku, bin FROM inventory_levels WHERE tenant_id = %s AND location = %s "
        "AND sku = ANY(%s) AND bin IS NOT NULL",
        (tenant_id, location, skus),
    )
    return {row["sku"]: row["bin"] for row in curs.fetchall()}


def _sorted(stores: frozenset[str] | None) -> list[str] | None:
    return None if stores is None else sorted(stores)
