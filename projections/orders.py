"""Orders read model: list, filter, search; the detail comes from the event store itself."""

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
from domain.order import events as _order_events  # noqa: F401 - registers every order topic
from domain.order.events import PERSONAL_CUSTOMER, personal_address
from domain.order.state import Order, evolve
from domain.shared.events import EVENT_TYPES
from projections.base import StreamFoldView, ViewProjection

DDL = (
    """CREATE TABLE IF NOT EXISTS orders_view (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        version bigint NOT NULL,
        status text NOT NULL,
        on_hold boolean NOT NULL,
        store text NOT NULL,
        channel text NOT NULL,
        external_id text,
        currency text NOT NULL,
        total numeric NOT NULL,
        units int NOT NULL,
        backordered int NOT NULL,
        customer_email text NOT NULL,
        customer_name text NOT NULL,
        country text NOT NULL,
        placed_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        state bytea NOT NULL,
        customer_id uuid,
        PRIMARY KEY (tenant_id, id))""",
    "ALTER TABLE orders_view ADD COLUMN IF NOT EXISTS customer_id uuid",
    "CREATE INDEX IF NOT EXISTS orders_view_customer ON orders_view (customer_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS orders_view_id ON orders_view (id)",
    "CREATE INDEX IF NOT EXISTS orders_view_recent "
    "ON orders_view (tenant_id, placed_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS orders_view_status "
    "ON orders_view (tenant_id, status, placed_at DESC)",
)

UPSERT = """
INSERT INTO orders_view (tenant_id, id, version, status, on_hold, store, channel, external_id,
    currency, total, units, backordered, customer_email, customer_name, country, placed_at,
    updated_at, state, customer_id)
VALUES (%(tenant_id)s, %(id)s, %(version)s, %(status)s, %(on_hold)s, %(store)s, %(channel)s,
    %(external_id)s, %(currency)s, %(total)s, %(units)s, %(backordered)s, %(customer_email)s,
    %(customer_name)s, %(country)s, %(placed_at)s, %(updated_at)s, %(state)s, %(customer_id)s)
ON CONFLICT (tenant_id, id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,
    on_hold = EXCLUDED.on_hold, total = EXCLUDED.total, units = EXCLUDED.units,
    backordered = EXCLUDED.backordered, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state
WHERE orders_view.version < EXCLUDED.version
"""


class OrdersView(StreamFoldView[Order]):
    ddl = DDL
    table = "orders_view"
    key_column = "id"
    state_type = Order
    initial = Order()
    evolve = staticmethod(evolve)
    upsert = UPSERT
    personal_paths = (*PERSONAL_CUSTOMER, *personal_address("shipping_address"))
    personal_columns = ("customer_email", "customer_name")

    def row(self, recorded: Recorded, state: Order) -> dict[str, Any]:
        assert state.customer is not None
        assert state.shipping_address is not None
        return {
            "tenant_id": recorded.metadata.tenant_id,
            "id": recorded.originator_id,
            "version": recorded.originator_version,
            "status": str(state.status),
            "on_hold": state.on_hold,
            "store": state.store,
            "channel": state.channel,
            "external_id": state.external_id,
            "currency": state.currency,
            "total": state.total.amount,
            "units": sum(line.open_quantity for line in state.lines.values()),
            "backordered": state.backordered,
            "customer_email": state.customer.email,
            "customer_name": state.customer.name,
            "country": state.shipping_address.country,
            "placed_at": state.placed_at,
            "updated_at": recorded.timestamp,
            "state": msgspec.json.encode(state),
            "customer_id": state.customer_id,
        }


class OrdersProjection(ViewProjection):
    name = "orders_view"
    topics: ClassVar[tuple[str, ...]] = (  # type: ignore[misc]
        *(topic for topic in EVENT_TYPES if topic.startswith("order.")),
        CustomerErased.topic(),
    )


class OrderRow(msgspec.Struct, frozen=True):
    id: UUID
    version: int
    status: str
    on_hold: bool
    store: str
    channel: str
    external_id: str | None
    currency: str
    total: Decimal
    units: int
    backordered: int
    customer_email: str
    customer_name: str
    country: str
    placed_at: datetime
    updated_at: datetime
    state: bytes


def list_orders(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    status: str | None,
    store: str | None,
    search: str | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
    stores: frozenset[str] | None = None,
) -> list[OrderRow]:
    """`stores`: the caller's store scope (None: every store)."""
    where = ["tenant_id = %(tenant)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    if stores is not None:
        where.append("store = ANY(%(stores)s)")
        params["stores"] = sorted(stores)
    if status:
        where.append("status = %(status)s")
        params["status"] = status
    if store:
        where.append("store = %(store)s")
        params["store"] = store
    if search:
        where.append(
            "(customer_email ILIKE %(search)s OR customer_name ILIKE %(search)s "
            "OR external_id ILIKE %(search)s)"
        )
        params["search"] = f"%{search}%"
    if after is not None:
        where.append("(placed_at, id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    curs.execute(
        f"SELECT * FROM orders_view WHERE {' AND '.join(where)} "  # type: ignore[arg-type]
        "ORDER BY placed_at DESC, id DESC LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[OrderRow])
