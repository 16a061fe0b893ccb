"""The audit index: one row per event (who did what to which record when), and the per-tenant
anchor chain over the global order (ADR 0020), written in the same transaction.

A rebuild empties `audit_log` only: `audit_chain` is evidence, so replays add to it where it
stops and never rewrite what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from adapters.postgres.chain import chain_hash
from application.ports import Recorded
from projections.base import View, ViewProjection

DDL = (
    """CREATE TABLE IF NOT EXISTS audit_log (
        position bigint PRIMARY KEY,
        tenant_id uuid NOT NULL,
        stream_id uuid NOT NULL,
        aggregate text NOT NULL,
        version bigint NOT NULL,
        type text NOT NULL,
        actor text NOT NULL,
        correlation_id uuid NOT NULL,
        causation_id uuid,
        request_id text,
        recorded_at timestamptz NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_log_tenant ON audit_log (tenant_id, position)",
    "CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (tenant_id, actor, position)",
    "CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log (tenant_id, recorded_at, position)",
)

# One statement per batch: arrays in (binary: %b), rows out; executemany would send each row.
INSERT = """
INSERT INTO audit_log (position, tenant_id, stream_id, aggregate, version, type, actor,
    correlation_id, causation_id, request_id, recorded_at)
SELECT * FROM unnest(%b::bigint[], %b::uuid[], %b::uuid[], %b::text[], %b::bigint[], %b::text[],
    %b::text[], %b::uuid[], %b::uuid[], %b::text[], %b::timestamptz[])
ON CONFLICT (position) DO NOTHING
"""

LAST_ANCHORS = """
SELECT t.id AS tenant_id, a.position, a.chain_hash
FROM unnest(%s::uuid[]) AS t(id)
LEFT JOIN LATERAL (SELECT position, chain_hash FROM audit_chain WHERE tenant_id = t.id
                   ORDER BY position DESC LIMIT 1) a ON true
"""

ANCHOR = """
INSERT INTO audit_chain (tenant_id, position, event_hash, chain_hash)
SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::bytea[], %b::bytea[])
ON CONFLICT DO NOTHING
"""


class Positioned(Recorded, frozen=True):
    """A recorded event with its place in the global order."""

    position: int = 0


class AuditLogView(View):
    ddl = DDL
    tables = ("audit_log",)

    def write(self, curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None:
        events = [r for r in batch if isinstance(r, Positioned)]
        rows = [
            (
                r.position,
                r.metadata.tenant_id,
                r.originator_id,
                type(r.event).aggregate,
                r.originator_version,
                type(r.event).topic(),
                r.metadata.actor,
                r.metadata.correlation_id,
                r.metadata.causation_id,
                r.metadata.request_id,
                r.metadata.recorded_at,
            )
            for r in events
        ]
        if rows:
            columns = [list(column) for column in zip(*rows, strict=True)]
            curs.execute(INSERT, columns)
        self._anchor(curs, events)

    def _anchor(self, curs: Cursor[DictRow], events: list[Positioned]) -> None:
        if not events:
            return
        curs.execute(
            "SELECT notification_id, hash FROM kontor_events WHERE notification_id = ANY(%s)",
            ([r.position for r in events],),
        )
        hashes = {row["notification_id"]: bytes(row["hash"] or b"") for row in curs.fetchall()}
        tenants = list({r.metadata.tenant_id for r in events})
        curs.execute(LAST_ANCHORS, (tenants,))
        last: dict[UUID, tuple[int, bytes | None]] = {
            row["tenant_id"]: (row["position"] or 0, row["chain_hash"]) for row in curs.fetchall()
        }
        anchors = []
        for r in events:
            tenant = r.metadata.tenant_id
            position, previous = last[tenant]
            if r.position <= position:
                continue  # anchored before this replay
            hashed = hashes[r.position]
            chained = chain_hash(previous and bytes(previous), r.position, hashed)
            anchors.append((tenant, r.position, hashed, chained))
            last[tenant] = (r.position, chained)
        if anchors:
            columns = [list(column) for column in zip(*anchors, strict=True)]
            curs.execute(ANCHOR, columns)


class AuditLogProjection(ViewProjection):
    name = "audit_log"
    topics: ClassVar[tuple[str, ...]] = ()  # type: ignore[misc]  # every event

    @staticmethod
    def prepare(recorded: Recorded, tracking: Tracking) -> Recorded:
        return Positioned(
            recorded.originator_id,
            recorded.originator_version,
            recorded.event,
            recorded.metadata,
            tracking.notification_id,
        )


class AuditEntry(msgspec.Struct, frozen=True):
    position: int
    stream_id: UUID
    aggregate: str
    version: int
    type: str
    actor: str
    correlation_id: UUID
    causation_id: UUID | None
    request_id: str | None
    recorded_at: datetime


def audit_log(
    curs: Cursor[DictRow],
    tenant_id: UUID,
    *,
    actor: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 100,
    newest_first: bool = False,
) -> list[AuditEntry]:
    """The tenant's audit index in global order (or newest first), after position `after`."""
    where = ["tenant_id = %(tenant)s", "position > %(after)s"]
    params: dict[str, Any] = {"tenant": tenant_id, "after": after, "limit": limit}
    if actor:
        where.append("actor = %(actor)s")
        params["actor"] = actor
    if event_type:
        where.append("type = %(type)s")
        params["type"] = event_type
    if since:
        where.append("recorded_at >= %(since)s")
        params["since"] = since
    if until:
        where.append("recorded_at < %(until)s")
        params["until"] = until
    curs.execute(
        "SELECT position, stream_id, aggregate, version, type, actor, correlation_id, "  # type: ignore[arg-type]
        f"causation_id, request_id, recorded_at FROM audit_log WHERE {' AND '.join(where)} "
        f"ORDER BY position {'DESC' if newest_first else 'ASC'} LIMIT %(limit)s",
        params,
    )
    return msgspec.convert(curs.fetchall(), list[AuditEntry])
