"""Audit use cases: an aggregate's state as of a version or a moment, and proving that replaying
every stream from its first event gives what the application loads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from application import kinds as kinds_module
from application.ports import Recorded
from application.streams import Kind, Streams, from_snapshot
from domain.shared.errors import InvalidCommand, NotFound
from domain.shared.events import DomainEvent


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
    replayed_from: int  # 0, or the version of the snapshot the replay started from


def kind_named(aggregate: str) -> Kind[Any]:
    known = kinds()
    if aggregate not in known:
        raise UnknownAggregate(
            f"unknown aggregate {aggregate!r}; choose from {', '.join(sorted(known))}",
            field="aggregate",
        )
    return known[aggregate]


class Step(msgspec.Struct, frozen=True):
    """One event of a stream, with what a fold as of a version or moment needs."""

    version: int
    event: DomainEvent
    tenant_id: UUID
    recorded_at: datetime


class StreamHistory(Protocol):
    def steps(self, stream_id: UUID, *, after: int, upto: int | None) -> list[Step]:
        """The stream's events with versions in (after, upto], in version order."""
        ...


def check_owned(
    history: StreamHistory, tenant_id: UUID, stream_id: UUID, aggregate: str | None = None
) -> None:
    """StreamNotFound unless the stream exists, is the tenant's and (if given) of `aggregate`."""
    first = history.steps(stream_id, after=0, upto=1)
    if (
        not first
        or first[0].tenant_id != tenant_id
        or (aggregate is not None and type(first[0].event).aggregate != aggregate)
    ):
        raise StreamNotFound(f"no {aggregate or 'stream'} {stream_id}")


def state_as_of(
    history: StreamHistory,
    streams: Streams,
    tenant_id: UUID,
    aggregate: str,
    stream_id: UUID,
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> AsOf:
    """Folds the stream up to `version`, or up to the last event recorded at or before `at` (a
    moment before the first event gives version 0, the initial state).

    The fold starts from the newest snapshot that lies within the answer: at or below
    `version` (one is kept every 1,000 versions), and for `at` the latest one if it was
    recorded at or before `at`. A snapshot is the same fold stored earlier (`kontor audit
    replay` proves each one), so it shortens the replay, never changes it.
    """
    kind = kind_named(aggregate)
    upto = None if version is None else max(version, 1)  # version 0: still read who owns it
    base = streams.snapshot(kind, stream_id, at_most=version)
    # With a snapshot, read from the event it ends with: that event tells who owns the stream
    # and when the snapshot's last change was recorded.
    steps = history.steps(stream_id, after=base.version - 1 if base else 0, upto=upto)
    if base is not None and (
        not steps
        or steps[0].version != base.version
        or (at is not None and steps[0].recorded_at > at)
    ):
        base, steps = None, history.steps(stream_id, after=0, upto=upto)
    if not steps or steps[0].tenant_id != tenant_id or type(steps[0].event).aggregate != aggregate:
        raise StreamNotFound(f"no {aggregate} {stream_id}")  # nor another tenant's
    if version is not None and steps[-1].version < version:
        raise InvalidCommand(f"version must be between 0 and {steps[-1].version}", field="version")
    if base is not None:
        state, reached, when = base.state, base.version, steps[0].recorded_at
        steps = steps[1:]
    else:
        state, reached, when = kind.initial, 0, None
    for step in steps:
        if (version is not None and step.version > version) or (
            at is not None and step.recorded_at > at
        ):
            break
        state = kind.evolve(step.event, state)
        reached, when = step.version, step.recorded_at
    return AsOf(aggregate, stream_id, reached, when, state, base.version if base else 0)


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
    (snapshots, then newer events) loads, and every kept snapshot with the fold at its version.
    Aggregates without a kind are counted as skipped."""
    known = kinds()
    kept = streams.kept_snapshots()
    report = ReplayReport()
    folded: dict[UUID, tuple[Kind[Any], Any, int]] = {}
    for recorded in events:
        report.events += 1
        aggregate = type(recorded.event).aggregate
        kind = known.get(aggregate)
        if kind is None:
            report.skipped[aggregate] = report.skipped.get(aggregate, 0) + 1
            continue
        sid, version = recorded.originator_id, recorded.originator_version
        _, state, _ = folded.get(sid, (kind, kind.initial, 0))
        state = kind.evolve(recorded.event, state)
        folded[sid] = (kind, state, version)
        if version in kept.get(sid, {}):
            snapshot = from_snapshot(kind, version, kept[sid][version])
            if snapshot is None or snapshot.state != state:
                report.mismatches.append(
                    Mismatch(sid, kind.name, f"kept snapshot at v{version} differs from the fold")
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
