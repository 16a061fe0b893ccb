"""Which read-model rows belong to a customer: what their export and erasure reach (ADR 0035)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow


class CustomerStreams(msgspec.Struct, frozen=True):
    orders: list[UUID]
    shipments: list[UUID]
    invoices: list[UUID]
    returns: list[UUID]

    def __bool__(self) -> bool:
        return bool(self.orders)


def customer_streams(
    curs: Cursor[DictRow], customer_id: UUID, *, stores: frozenset[str] | None
) -> CustomerStreams:
    """The customer's orders (in `stores`, or all), and the shipments, invoices and returns of
    those orders, oldest first. The caller's transaction limits rows to its tenant."""
    in_stores = "" if stores is None else " AND store = ANY(%(stores)s)"
    params = {"customer": customer_id, "stores": sorted(stores or ())}
    curs.execute(
        "SELECT id FROM orders_view WHERE customer_id = %(customer)s"  # type: ignore[arg-type]
        f"{in_stores} ORDER BY placed_at, id",
        params,
    )
    orders = [row["id"] for row in curs.fetchall()]
    found: dict[str, list[UUID]] = {}
    for table, order_column in (
        ("shipments_view", "created_at"),
        ("invoices_view", "issued_at"),
        ("returns_view", "id"),
    ):
        curs.execute(
            f"SELECT id FROM {table} WHERE order_id = ANY(%s) "  # type: ignore[arg-type]
            f"ORDER BY {order_column}, id",
            (orders,),
        )
        found[table] = [row["id"] for row in curs.fetchall()]
    return CustomerStreams(
        orders=orders,
        shipments=found["shipments_view"],
        invoices=found["invoices_view"],
        returns=found["returns_view"],
    )
