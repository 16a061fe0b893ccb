"""Tamper evidence: the per-stream hash chain and the per-tenant anchor chain (ADR 0020).

Every event row carries `hash = sha256(previous hash of its stream || stream id || version ||
topic || NUL || stored envelope)`, computed by `kontor_append` (schema.py). The audit-log
projection anchors streams in a per-tenant chain over the global order:
`chain = sha256(previous chain of the tenant || position || event hash)`, kept in `audit_chain`,
which no rebuild empties. `verify` walks the store once, in global order, and reports every
broken link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection
from psycopg.rows import DictRow


def event_hash(
    previous: bytes | None, stream_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The same bytes as the SQL function `kontor_event_hash`."""
    return hashlib.sha256(
        (previous or b"")
        + stream_id.bytes
        + version.to_bytes(8, "big", signed=True)
        + topic.encode()
        + b"\0"
        + state
    ).digest()


def chain_hash(previous: bytes | None, position: int, hashed: bytes) -> bytes:
    return hashlib.sha256((previous or b"") + position.to_bytes(8, "big") + hashed).digest()


class _Meta(msgspec.Struct):
    tenant_id: UUID


class _Envelope(msgspec.Struct):
    meta: _Meta


_tenant_of = msgspec.json.Decoder(_Envelope).decode


def tenant_of(state: bytes) -> UUID:
    return _tenant_of(state).meta.tenant_id


class Break(msgspec.Struct, frozen=True):
    """One broken link: where, and what is wrong."""

    stream_id: UUID | None
    version: int | None
    position: int | None  # None: committed, not yet given a position by the sequencer
    problem: str


class Verification(msgspec.Struct):
    events: int = 0
    streams: int = 0
    anchored: int = 0
    breaks: list[Break] = msgspec.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _rows(
    conn: Connection[DictRow], stream_id: UUID | None, page: int = 5_000
) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        where = "notification_id > %s" + (" AND originator_id = %s" if stream_id else "")
        params: tuple[Any, ...] = (after, stream_id) if stream_id else (after,)
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state, hash "
            f"FROM kontor_events WHERE {where} ORDER BY notification_id LIMIT {page}",  # type: ignore[arg-type]
            params,
        ).fetchall()
        yield from rows
        if len(rows) < page:
            break
        after = rows[-1]["notification_id"]
    # Committed events the sequencer has not placed yet (ADR 0032) are walked too, after the
    # others: a row forged with no position must not hide from the audit.
    where = "notification_id IS NULL" + (" AND originator_id = %s" if stream_id else "")
    yield from conn.execute(
        "SELECT notification_id, originator_id, originator_version, topic, state, hash "
        f"FROM kontor_events WHERE {where} ORDER BY seq",  # type: ignore[arg-type]
        (stream_id,) if stream_id else (),
    )


def verify(
    conn: Connection[DictRow],
    *,
    stream_id: UUID | None = None,
    tenant_id: UUID | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Walks the events in global order (of one stream, or all) and checks every link.

    Streams: versions follow each other from 1 and each hash matches its recomputation from the
    previous stored hash. Tenants (whole-store walk): every anchored position still holds the
    event it anchored, each anchor chains to the previous, and every anchored stretch of the
    order holds no event the anchors do not know.
    """
    walk = _Walk(_anchors(conn, tenant_id) if stream_id is None else None, tenant_id)
    for row in _rows(conn, stream_id):
        walk.visit(row)
        if progress is not None and walk.result.events % 5_000 == 0:
            progress(walk.result.events)
    return walk.finish()


class _Walk:
    def __init__(self, anchors: _Anchors | None, tenant_id: UUID | None) -> None:
        self.anchors = anchors
        self.tenant_id = tenant_id
        self.result = Verification()
        self.last: dict[UUID, tuple[int, bytes | None]] = {}  # per stream: version, hash
        self.seen: set[int] = set()

    def visit(self, row: dict[str, Any]) -> None:
        position, sid, version = (
            row["notification_id"],
            row["originator_id"],
            row["originator_version"],
        )
        state = bytes(row["state"])
        try:
            tenant = tenant_of(state)
        except msgspec.DecodeError:
            self.result.breaks.append(
                Break(sid, version, position, "stored envelope is unreadable")
            )
            return
        if self.tenant_id is not None and tenant != self.tenant_id:
            return
        self.result.events += 1
        stored = bytes(row["hash"]) if row["hash"] is not None else None
        problems = [self._stream_link(sid, version, row["topic"], state, stored)]
        if self.anchors is not None and position is not None:
            self.seen.add(position)
            problems.append(self._anchored(self.anchors, tenant, position, stored))
        self.result.breaks.extend(Break(sid, version, position, p) for p in problems if p)

    def _stream_link(
        self, sid: UUID, version: int, topic: str, state: bytes, stored: bytes | None
    ) -> str | None:
        previous_version, previous_hash = self.last.get(sid, (0, None))
        self.last[sid] = (version, stored)
        if version > previous_version + 1:
            return f"version {previous_version + 1} is missing"
        if version <= previous_version:
            return f"version {version} repeats"
        if stored != event_hash(previous_hash, sid, version, topic, state):
            return "hash does not match the event and its predecessor"
        return None

    @staticmethod
    def _anchored(
        anchors: _Anchors, tenant: UUID, position: int, stored: bytes | None
    ) -> str | None:
        anchor = anchors.get(position)
        if anchor is not None and anchor != stored:
            return "event differs from the one its tenant anchored"
        if anchor is None and position <= anchors.horizon(tenant):
            return "event is not in its tenant's anchor chain"
        return None

    def finish(self) -> Verification:
        result = self.result
        result.streams = len(self.last)
        if self.anchors is not None:
            result.anchored = len(self.anchors.hashes)
            result.breaks.extend(self.anchors.breaks)
            result.breaks.extend(
                Break(None, None, position, "anchored event is missing from the store")
                for position in sorted(self.anchors.hashes.keys() - self.seen)
            )
        result.breaks.sort(key=lambda b: (b.position is None, b.position or 0))
        return result


class _Anchors:
    def __init__(self) -> None:
        self.hashes: dict[int, bytes] = {}
        self.horizons: dict[UUID, int] = {}
        self.breaks: list[Break] = []

    def get(self, position: int) -> bytes | None:
        return self.hashes.get(position)

    def horizon(self, tenant_id: UUID) -> int:
        return self.horizons.get(tenant_id, 0)


def _anchors(conn: Connection[DictRow], tenant_id: UUID | None) -> _Anchors:
    """Reads the tenants' anchor chains, checking each link on the way."""
    anchors = _Anchors()
    where = "WHERE tenant_id = %s" if tenant_id else ""
    previous: dict[UUID, bytes] = {}
    rows = conn.execute(
        "SELECT tenant_id, position, event_hash, chain_hash FROM audit_chain "  # type: ignore[arg-type]
        f"{where} ORDER BY tenant_id, position",
        (tenant_id,) if tenant_id else None,
    ).fetchall()
    for row in rows:
        tenant, position = row["tenant_id"], row["position"]
        hashed, chained = bytes(row["event_hash"]), bytes(row["chain_hash"])
        if chained != chain_hash(previous.get(tenant), position, hashed):
            anchors.breaks.append(
                Break(None, None, position, f"anchor chain of tenant {tenant} breaks here")
            )
        previous[tenant] = chained
        anchors.hashes[position] = hashed
        anchors.horizons[tenant] = position
    return anchors
