"""Returns read model: RMAs listed by status and reason category, and returns per reason
category over a period (what analytics groups them by). Lines never change once authorized, so
they are kept as jsonb next to the row and grouped in SQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from application.ports import Recorded
from domain.returns import events as _return_events  # noqa: F401 - registers every return topic
from domain.returns.state import Return, evolve
from domain.shared.events import EVENT_TYPES
from projections.base import StreamFoldView, ViewProjection

DDL = (
    """CREATE TABLE IF NOT EXISTS returns_view (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        version bigint NOT NULL,
        order_id uuid NOT NULL,
        store text NOT NULL,
        status text NOT NULL,
        units int NOT NULL,
        lines jsonb NOT NULL,
        location text,
        authorized_at timestamptz NOT NULL,
        received_at timestamptz,
        state bytea NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS returns_view_id ON returns_view (id)",
    "CREATE INDEX IF NOT EXISTS returns_view_recent "
    "ON returns_view (tenant_id, authorized_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS returns_view_lines ON returns_view USING gin (lines)",
)

UPSERT = """
INSERT INTO returns_view (tenant_id, id, version, order_id, store, status, units, lines,
    location, authorized_at, received_at, state)
VALUES (%(tenant_id)s, %(id)s, %(version)s, %(order_id)s, %(store)s, %(status)s, %(units)s,
    %(lines)s, %(location)s, %(authorized_at)s, %(received_at)s, %(state)s)
ON CONFLICT (tenant_id, id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,
    location = EXCLUDED.location, received_at = EXCLUDED.received_at, state = EXCLUDED.state
WHERE returns_view.version < EXCLUDED.version
"""


class ReturnsView(StreamFoldView[Return]):
    ddl = DDL
    table = "returns_view"
    key_column = "id"
    state_type = Return
    initial = Return()
    evolve = staticmethod(evolve)
    upsert = UPSERT

    def row(self, recorded: Recorded, state: Return) -> dict[str, Any]:
        return {
            "tenant_id": recorded.metadata.tenant_id,
            "id": recorded.originator_id,
            "version": recorded.originator_version,
            "order_id": state.order_id,
            "store": state.store,
            "status": state.status,
            "units": sum(line.quantity for line in state.lines),
            "lines": Jsonb(msgspec.to_builtins(state.lines)),
            "location": state.location,
            "authorized_at": state.authorized_at,
            "received_at": state.received_at,
            "state": msgspec.json.encode(state),
        }


class ReturnsProjection(ViewProjection):
    name = "returns_view"
    topics: ClassVar[tuple[str, ...]] = tuple(  # type: ignore[misc]
        topic for topic in EVENT_TYPES if topic.startswith("return.")
    )


class ReturnRow(msgspec.Struct, frozen=True):
    version: int
    state: Return


def list_returns(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    status: str | None,
    category: str | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
    stores: Collection[str] | None = None,
) -> list[ReturnRow]:
    """Newest first; `category` keeps returns with at least one line of that category;
    `stores` (a caller's store scope) keeps only theirs."""
    where = ["tenant_id = %(tenant)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    if stores is not None:
        where.append("store = ANY(%(stores)s)")
        params["stores"] = list(stores)
    if status is not None:
        where.append("status = %(status)s")
        params["status"] = status
    if category is not None:
        where.append("lines @> %(category)s")
        params["category"] = Jsonb([{"category": category}])
    if after is not None:
        where.append("(authorized_at, id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    curs.execute(
        f"SELECT version, state FROM returns_view WHERE {' AND '.join(where)} "  # type: ignore[arg-type]
        "ORDER BY authorized_at DESC, id DESC LIMIT %(limit)s",
        params,
    )
    decode = msgspec.json.Decoder(Return).decode
    return [ReturnRow(row["version"], decode(bytes(row["state"]))) for row in curs.fetchall()]


class ReasonCount(msgspec.Struct, frozen=True):
    """`reason` is None on a category's own row (a return with two reasons counts once)."""

    category: str
    reason: str | None
    returns: int
    units: int


def reason_counts(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    stores: Collection[str] | None = None,
) -> list[ReasonCount]:
    """Returns and units per category and per reason, authorized in [since, until)."""
    curs.execute(
        "SELECT line->>'category' AS category, line->>'reason' AS reason, "
        "count(DISTINCT r.id) AS returns, sum((line->>'quantity')::int) AS units "
        "FROM returns_view r, jsonb_array_elements(r.lines) AS line "
        "WHERE r.tenant_id = %(tenant)s "
        "AND (%(since)s::timestamptz IS NULL OR r.authorized_at >= %(since)s) "
        "AND (%(until)s::timestamptz IS NULL OR r.authorized_at < %(until)s) "
        "AND (%(stores)s::text[] IS NULL OR r.store = ANY(%(stores)s)) "
        "GROUP BY GROUPING SETS ((1), (1, 2)) ORDER BY 1, 2 NULLS FIRST",
        {
            "tenant": tenant_id,
            "since": since,
            "until": until,
            "stores": None if stores is None else list(stores),
        },
    )
    return msgspec.convert(curs.fetchall(), list[ReasonCount])
