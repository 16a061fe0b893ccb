"""Money read-model queries only the dashboard's Finance page needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow


class MoneyMovement(msgspec.Struct, frozen=True):
    """A payment or a refund, as the billing read model recorded it."""

    id: UUID
    kind: str
    order_id: UUID
    invoice_id: UUID | None
    amount: Decimal
    currency: str
    method: str | None
    gateway: str | None
    gateway_reference: str | None
    at: datetime


def recent_payments(
    curs: Cursor[DictRow], tenant_id: UUID, stores: frozenset[str] | None, *, limit: int
) -> list[MoneyMovement]:
    """The newest payments and refunds; with `stores`, only those of these stores' orders."""
    curs.execute(
        "SELECT p.id, p.kind, p.order_id, p.invoice_id, p.amount, p.currency, p.method, "
        "p.gateway, p.gateway_reference, p.at FROM billing_payments p WHERE p.tenant_id = %(t)s "
        "AND (%(stores)s::text[] IS NULL OR EXISTS (SELECT 1 FROM billing_orders o "
        "WHERE o.tenant_id = p.tenant_id AND o.order_id = p.order_id "
        "AND o.store = ANY(%(stores)s))) ORDER BY p.at DESC, p.id DESC LIMIT %(limit)s",
        {"t": tenant_id, "stores": None if stores is None else sorted(stores), "limit": limit},
    )
    return msgspec.convert(curs.fetchall(), list[MoneyMovement])
