"""Audit use cases: an aggregate's state as of a version or a moment, and proving that replaying
every stream from its first event gives what the application loads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from application import kinds as kinds_module
from application.ports import EventStore, Recorded
from application.streams import Kind, Streams
from domain.shared.errors import InvalidCommand, NotFound


def kinds() -> dict[str, Kind[Any]]:
    """Every aggregate kind the application knows, by name (new ones appear by registration in
    application/kinds.py)."""
    return {k.name: k for k in vars(kinds_module).values() if isinstance(k, Kind)}


class StreamNotFound(NotFound):
    code = "stream_not_found"


class UnknownAggregate(InvalidCommand):
    code = "unknown_aggregate"


class AsOf(msgspec.Struct, frozen=True):
    aggregate: str
    stream_id: UUID
    version: int
    recorded_at: datetime | None
    state: Any


def kind_named(aggregate: str) -> Kind[Any]:
    known = kinds()
    if aggregate not in known:
        raise UnknownAggregate(
            f"unknown aggregate {aggregate!r}; choose from {', '.join(sorted(known))}",
            field="aggregate",
        )
    return known[aggregate]


def history(store: EventStore, tenant_id: UUID, aggregate: str, stream_id: UUID) -> list[Recorded]:
    """Every event of the tenant's stream of that aggregate, or StreamNotFound."""
    events = store.load({stream_id: 0})[stream_id]
    if (
        not events
        or events[0].metadata.tenant_id != tenant_id
        or type(events[0].event).aggregate != aggregate
    ):
        raise StreamNotFound(f"no {aggregate} {stream_id}")
    return events


def state_as_of(
    store: EventStore,
    tenant_id: UUID,
    aggregate: str,
    stream_id: UUID,
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> AsOf:
    """Folds the stream from its first event up to `version`, or the last event recorded at or
    before `at` (a moment before the first event is version 0, the initial state)."""
    kind = kind_named(aggregate)
    events = history(store, tenant_id, aggregate, stream_id)
    if version is not None and not 0 <= version <= len(events):
        raise InvalidCommand(f"version must be between 0 and {len(events)}", field="version")
    state, reached, when = kind.initial, 0, None
    for recorded in events:
        if version is not None and recorded.originator_version > version:
            break
        if at is not None and recorded.metadata.recorded_at > at:
            break
        state = kind.evolve(recorded.event, state)
        reached, when = recorded.originator_version, recorded.metadata.recorded_at
    return AsOf(aggregate, stream_id, reached, when, state)


class Mismatch(msgspec.Struct, frozen=True):
    stream_id: UUID
    aggregate: str
    detail: str


class ReplayReport(msgspec.Struct):
    streams: int = 0
    events: int = 0
    skipped: dict[str, int] = msgspec.field(default_factory=dict)
    mismatches: list[Mismatch] = msgspec.field(default_factory=list)


def replay(
    events: Iterable[Recorded],
    streams: Streams,
    *,
    chunk: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Folds every stream from its first event and compares the result with what `streams`
    (snapshots, then newer events) loads. Aggregates without a kind are counted as skipped."""
    known = kinds()
    report = ReplayReport()
    folded: dict[UUID, tuple[Kind[Any], Any, int]] = {}
    for recorded in events:
        report.events += 1
        aggregate = type(recorded.event).aggregate
        kind = known.get(aggregate)
        if kind is None:
            report.skipped[aggregate] = report.skipped.get(aggregate, 0) + 1
            continue
        _, state, _ = folded.get(recorded.originator_id, (kind, kind.initial, 0))
        folded[recorded.originator_id] = (
            kind,
            kind.evolve(recorded.event, state),
            recorded.originator_version,
        )
        if progress is not None and report.events % 1_000 == 0:
            progress(report.events)
    ids = list(folded)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        loaded = streams.load({sid: folded[sid][0] for sid in part})
        for sid in part:
            kind, state, version = folded[sid]
            live = loaded[sid]
            if live.version != version:
                report.mismatches.append(
                    Mismatch(sid, kind.name, f"replayed to v{version}, loaded v{live.version}")
                )
            elif live.state != state:
                report.mismatches.append(
                    Mismatch(sid, kind.name, f"state at v{version} differs from the loaded one")
                )
    report.streams = len(folded)
    return report
