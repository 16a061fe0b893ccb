"""Inventory levels per SKU x location: on hand, reserved, available, moving-average cost; and
every movement behind them (projections/movements.py), written in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from application.ports import Recorded
from domain.shared.events import EVENT_TYPES
from domain.stock import events as _stock_events  # noqa: F401 - registers every stock topic
from domain.stock.state import Stock, evolve
from projections.base import StreamFoldView, ViewProjection
from projections.movements import MOVEMENTS_DDL, write_movements

DDL = (
    """CREATE TABLE IF NOT EXISTS inventory_levels (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        location text NOT NULL,
        stream_id uuid NOT NULL,
        version bigint NOT NULL,
        on_hand int NOT NULL,
        reserved int NOT NULL,
        available int NOT NULL,
        average_cost numeric,
        cost_currency text,
        updated_at timestamptz NOT NULL,
        state bytea NOT NULL,
        PRIMARY KEY (tenant_id, sku, location))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS inventory_levels_stream ON inventory_levels (stream_id)",
    # Fulfilment: bin, stock policy and the shipped / restocked history.
    "ALTER TABLE inventory_levels ADD COLUMN IF NOT EXISTS bin text, "
    "ADD COLUMN IF NOT EXISTS safety_stock int NOT NULL DEFAULT 0, "
    "ADD COLUMN IF NOT EXISTS reorder_point int NOT NULL DEFAULT 0, "
    "ADD COLUMN IF NOT EXISTS shipped int NOT NULL DEFAULT 0, "
    "ADD COLUMN IF NOT EXISTS restocked int NOT NULL DEFAULT 0",
    # Rows written before reservations had lines kept an empty per-order map the state no
    # longer has (and refuses): drop it.
    "UPDATE inventory_levels SET state = convert_to("
    "(convert_from(state, 'UTF8')::jsonb - 'reservations')::text, 'UTF8') "
    "WHERE convert_from(state, 'UTF8')::jsonb ? 'reservations'",
    *MOVEMENTS_DDL,
)

UPSERT = """
INSERT INTO inventory_levels (tenant_id, sku, location, stream_id, version, on_hand, reserved,
    available, average_cost, cost_currency, updated_at, state, bin, safety_stock, reorder_point,
    shipped, restocked)
VALUES (%(tenant_id)s, %(sku)s, %(location)s, %(stream_id)s, %(version)s, %(on_hand)s,
    %(reserved)s, %(available)s, %(average_cost)s, %(cost_currency)s, %(updated_at)s, %(state)s,
    %(bin)s, %(safety_stock)s, %(reorder_point)s, %(shipped)s, %(restocked)s)
ON CONFLICT (tenant_id, sku, location) DO UPDATE SET version = EXCLUDED.version,
    on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, available = EXCLUDED.available,
    average_cost = EXCLUDED.average_cost, cost_currency = EXCLUDED.cost_currency,
    updated_at = EXCLUDED.updated_at, state = EXCLUDED.state, bin = EXCLUDED.bin,
    safety_stock = EXCLUDED.safety_stock, reorder_point = EXCLUDED.reorder_point,
    shipped = EXCLUDED.shipped, restocked = EXCLUDED.restocked
WHERE inventory_levels.version < EXCLUDED.version
"""


class InventoryView(StreamFoldView[Stock]):
    ddl = DDL
    table = "inventory_levels"
    tables = ("inventory_levels", "stock_movements")  # one transaction writes both
    state_type = Stock
    initial = Stock()
    evolve = staticmethod(evolve)
    upsert = UPSERT

    def write(self, curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None:
        super().write(curs, batch)
        write_movements(curs, batch)

    def stored(self, state: Stock) -> Stock:
        # Levels need the reserved count, not who holds it: evolve keeps the count exact
        # without the per-order map, which grows with every open order.
        return msgspec.structs.replace(state, holds={})

    def row(self, recorded: Recorded, state: Stock) -> dict[str, Any]:
        cost = state.average_cost
        return {
            "tenant_id": recorded.metadata.tenant_id,
            "sku": state.sku,
            "location": state.location,
            "stream_id": recorded.originator_id,
            "version": recorded.originator_version,
            "on_hand": state.on_hand,
            "reserved": state.reserved,
            "available": state.available,
            "average_cost": None if cost is None else cost.amount,
            "cost_currency": None if cost is None else cost.currency,
            "updated_at": recorded.timestamp,
            "state": msgspec.json.encode(state),
            "bin": state.bin,
            "safety_stock": state.safety_stock,
            "reorder_point": state.reorder_point,
            "shipped": state.shipped,
            "restocked": state.restocked,
        }


class InventoryProjection(ViewProjection):
    name = "inventory_levels"
    topics: ClassVar[tuple[str, ...]] = tuple(  # type: ignore[misc]
        topic for topic in EVENT_TYPES if topic.startswith("stock.")
    )


class InventoryRow(msgspec.Struct, frozen=True):
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    average_cost: Decimal | None
    cost_currency: str | None
    version: int
    bin: str | None = None
    safety_stock: int = 0
    reorder_point: int = 0
    shipped: int = 0
    restocked: int = 0


LOW_STOCK = "reorder_point > 0 AND available <= reorder_point"


def list_inventory(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    sku: str | None,
    location: str | None,
    limit: int,
    after: tuple[str, str] | None,
    locations: frozenset[str] | None = None,
    low: bool = False,
) -> list[InventoryRow]:
    """`locations`: the caller's visible locations (None: all); `low`: only the rows at or
    below their reorder point (the rule of the LowStock event)."""
    where = ["tenant_id = %(tenant)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    if low:
        where.append(LOW_STOCK)
    if locations is not None:
        where.append("location = ANY(%(locations)s)")
        params["locations"] = sorted(locations)
    if sku:
        where.append("sku = %(sku)s")
        params["sku"] = sku
    if location:
        where.append("location = %(location)s")
        params["location"] = location
    if after is not None:
        where.append("(sku, location) > (%(after_sku)s, %(after_location)s)")
        params["after_sku"], params["after_location"] = after
    curs.execute(
        f"SELECT * FROM inventory_levels WHERE {' AND '.join(where)} "  # type: ignore[arg-type]
        "ORDER BY sku, location LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[InventoryRow])
