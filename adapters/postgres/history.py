"""Reading the stored history as auditors see it: events with their place, metadata and hash."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg.rows import tuple_row

from adapters.postgres.mapper import UnknownEventTopic, decode_data, decode_event, opened_data
from application.audit import Step
from application.ports import Recorded
from domain.shared.ids import event_id


class HistoryEvent(msgspec.Struct, frozen=True):
    """One stored event with everything an auditor asks about it (the export/JSONL shape)."""

    position: int
    event_id: UUID
    stream_id: UUID
    version: int
    type: str
    schema_version: int
    tenant_id: UUID
    actor: str
    correlation_id: UUID
    causation_id: UUID | None
    request_id: str | None
    recorded_at: datetime
    hash: str | None
    data: msgspec.Raw


class _Meta(msgspec.Struct, frozen=True):
    tenant_id: UUID
    actor: str
    correlation_id: UUID
    recorded_at: datetime
    causation_id: UUID | None = None
    request_id: str | None = None


class _Stored(msgspec.Struct, frozen=True):
    v: int
    meta: _Meta
    data: msgspec.Raw


_decode = msgspec.json.Decoder(_Stored).decode

COLUMNS = "notification_id, originator_id, originator_version, topic, state, hash"


def history_event(row: dict[str, Any]) -> HistoryEvent:
    stored = _decode(bytes(row["state"]))
    meta = stored.meta
    return HistoryEvent(
        position=row["notification_id"],
        event_id=event_id(row["originator_id"], row["originator_version"]),
        stream_id=row["originator_id"],
        version=row["originator_version"],
        type=row["topic"],
        schema_version=stored.v,
        tenant_id=meta.tenant_id,
        actor=meta.actor,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        request_id=meta.request_id,
        recorded_at=meta.recorded_at,
        hash=bytes(row["hash"]).hex() if row["hash"] is not None else None,
        data=msgspec.Raw(opened_data(row["topic"], bytes(stored.data), meta.tenant_id)),
    )


def stream_page(
    datastore: Any, stream_id: UUID, *, after_version: int, limit: int
) -> list[HistoryEvent]:
    with datastore.transaction() as curs:
        curs.execute(
            f"SELECT {COLUMNS} FROM kontor_events WHERE originator_id = %s "
            "AND originator_version > %s ORDER BY originator_version LIMIT %s",
            (stream_id, after_version, limit),
        )
        return [history_event(row) for row in curs.fetchall()]


def all_rows(datastore: Any, *, after: int = 0, page: int = 5_000) -> Iterator[dict[str, Any]]:
    """Every stored row in global order, a page per round trip."""
    while True:
        with datastore.transaction() as curs:
            curs.execute(
                f"SELECT {COLUMNS} FROM kontor_events WHERE notification_id > %s "
                "ORDER BY notification_id LIMIT %s",
                (after, page),
                binary=True,
            )
            rows = curs.fetchall()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1]["notification_id"]


def recorded_pages(
    datastore: Any, *, after: int, topics: Sequence[str] = (), page: int = 5_000
) -> Iterator[list[tuple[int, Recorded]]]:
    """Events after `after` (of `topics`, or all), decoded, with their positions, a page at a
    time: what a rebuild reads, without the library's per-row dicts and objects."""
    where = "notification_id > %s" + (" AND topic = ANY(%s)" if topics else "")
    while True:
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "  # type: ignore[arg-type]
                f"FROM kontor_events WHERE {where} ORDER BY notification_id LIMIT %s",
                (after, list(topics), page) if topics else (after, page),
                binary=True,
            )
            rows = curs.fetchall()
        if not rows:
            return
        items = []
        for position, stream_id, version, topic, state in rows:
            event, metadata = decode_event(topic, state)
            items.append((position, Recorded(stream_id, version, event, metadata)))
        yield items
        after = rows[-1][0]


def all_recorded(datastore: Any) -> Iterator[Recorded]:
    """Every event in global order, except those of topics this process has no class for
    (test-only events of other processes)."""
    for row in all_rows(datastore):
        try:
            event, metadata = decode_event(row["topic"], bytes(row["state"]))
        except UnknownEventTopic:
            continue
        yield Recorded(row["originator_id"], row["originator_version"], event, metadata)


def last_position(datastore: Any) -> int:
    with datastore.transaction() as curs:
        curs.execute("SELECT coalesce(max(notification_id), 0) AS n FROM kontor_events")
        return int(curs.fetchone()["n"])


class _Who(msgspec.Struct, frozen=True):
    tenant_id: UUID
    recorded_at: datetime


class _Folding(msgspec.Struct, frozen=True):
    v: int
    meta: _Who
    data: msgspec.Raw


_folding = msgspec.json.Decoder(_Folding).decode


class PostgresHistory:
    """Implements the audit's StreamHistory port: one stream's events, decoded only as far as a
    fold needs (no correlation ids, actors and the like)."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def steps(self, stream_id: UUID, *, after: int, upto: int | None) -> list[Step]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                "SELECT originator_version, topic, state FROM kontor_events "
                "WHERE originator_id = %s AND originator_version > %s "
                "AND originator_version <= %s ORDER BY originator_version",
                (stream_id, after, upto if upto is not None else 2**62),
                binary=True,
            )
            rows = curs.fetchall()
        steps = []
        for version, topic, state in rows:
            stored = _folding(state)
            event = decode_data(topic, stored.v, stored.data, stored.meta.tenant_id)
            steps.append(Step(version, event, stored.meta.tenant_id, stored.meta.recorded_at))
        return steps
