"""Read-model queries behind the dashboard's Home page: sales figures of a day and the alerts.

They read the same tables the REST API lists from (orders_view, inventory_levels, invoices_view,
webhook_deliveries); each takes the caller's store scope (None: every store)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.inventory import LOW_STOCK


class Sales(msgspec.Struct, frozen=True):
    """One currency's figures over a period: placed orders, not counting cancelled ones."""

    currency: str
    sales: Decimal
    orders: int
    units: int

    @property
    def average_order(self) -> Decimal:
        return (self.sales / self.orders).quantize(Decimal("0.01")) if self.orders else Decimal(0)


def _scope(where: list[str], params: dict[str, Any], stores: frozenset[str] | None) -> None:
    if stores is not None:
        where.append("store = ANY(%(stores)s)")
        params["stores"] = sorted(stores)


def sales_between(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    start: datetime,
    end: datetime,
    *,
    stores: frozenset[str] | None,
) -> dict[str, Sales]:
    """Per currency, the orders placed in [start, end)."""
    where = [
        "tenant_id = %(tenant)s",
        "placed_at >= %(start)s",
        "placed_at < %(end)s",
        "status <> 'cancelled'",
    ]
    params: dict[str, Any] = {"tenant": tenant_id, "start": start, "end": end}
    _scope(where, params, stores)
    curs.execute(
        "SELECT currency, coalesce(sum(total), 0) AS sales, count(*) AS orders, "  # type: ignore[arg-type]
        f"coalesce(sum(units), 0) AS units FROM orders_view WHERE {' AND '.join(where)} "
        "GROUP BY currency",
        params,
    )
    return {row["currency"]: msgspec.convert(row, Sales) for row in curs.fetchall()}


class LowStock(msgspec.Struct, frozen=True):
    sku: str
    location: str
    available: int
    reorder_point: int


def low_stock(
    curs: Cursor[DictRow], tenant_id: UUID, *, locations: frozenset[str] | None, limit: int
) -> list[LowStock]:
    """Stock at or below its reorder point (the rule of the LowStock event), lowest first;
    `locations`: the caller's visible locations (None: all)."""
    where = ["tenant_id = %(tenant)s", LOW_STOCK]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    if locations is not None:
        where.append("location = ANY(%(locations)s)")
        params["locations"] = sorted(locations)
    curs.execute(
        "SELECT sku, location, available, reorder_point FROM inventory_levels "  # type: ignore[arg-type]
        f"WHERE {' AND '.join(where)} "
        "ORDER BY available - reorder_point, sku, location LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[LowStock])


class Overdue(msgspec.Struct, frozen=True):
    id: UUID
    number: str
    store: str
    currency: str
    balance: Decimal
    due_at: datetime


def overdue_invoices(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    now: datetime,
    *,
    stores: frozenset[str] | None,
    limit: int,
) -> list[Overdue]:
    where = ["tenant_id = %(tenant)s", "NOT voided", "balance > 0", "due_at < %(now)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "now": now, "limit": limit}
    _scope(where, params, stores)
    curs.execute(
        "SELECT id, number, store, currency, balance, due_at FROM invoices_view "  # type: ignore[arg-type]
        f"WHERE {' AND '.join(where)} ORDER BY due_at LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[Overdue])


def failed_webhooks(curs: Cursor[DictRow], tenant_id: UUID, since: datetime) -> int:
    """Deliveries that gave up since `since`."""
    curs.execute(
        "SELECT count(*) AS n FROM webhook_deliveries "
        "WHERE tenant_id = %s AND status = 'failed' AND updated_at >= %s",
        (tenant_id, since),
    )
    row = curs.fetchone()
    return int(row["n"]) if row else 0
