"""Loading aggregate state by stream id: in-process cache, then snapshot, then newer events."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec

from application.ports import EventStore, Recorded, SnapshotStore
from domain.shared.events import DomainEvent

S = TypeVar("S")


class Kind(msgspec.Struct, Generic[S], frozen=True):
    """How to fold one kind of aggregate."""

    name: str
    initial: S
    evolve: Callable[[Any, S], S]
    state_type: type[S]
    snapshots: bool = False
    # Events the aggregate's own rules add to whatever a command decided for it (e.g. LowStock
    # when stock crosses its reorder point), given the state before them.
    follow_up: Callable[[S, list[Any]], list[Any]] | None = None


class Loaded(msgspec.Struct, Generic[S], frozen=True):
    state: S
    version: int
    tenant_id: UUID | None

    def owned_by(self, tenant_id: UUID) -> bool:
        return self.version > 0 and self.tenant_id == tenant_id


class _Snapshot(msgspec.Struct, frozen=True):
    tenant_id: UUID | None
    state: msgspec.Raw


class Streams:
    """Thread-safe. States are immutable, so cached ones are shared without copying."""

    def __init__(
        self,
        store: EventStore,
        snapshots: SnapshotStore | None = None,
        *,
        cache_size: int = 20_000,
        snapshot_every: int = 100,
    ) -> None:
        self.store = store
        self.snapshots = snapshots
        self.cache_size = cache_size
        self.snapshot_every = snapshot_every
        self._cache: OrderedDict[UUID, Loaded[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, kinds: Mapping[UUID, Kind[Any]]) -> dict[UUID, Loaded[Any]]:
        known = self._cached(kinds)
        missing = [sid for sid, kind in kinds.items() if kind.snapshots and sid not in known]
        if missing and self.snapshots is not None:
            for stream_id, (version, body) in self.snapshots.get_many(missing).items():
                snapshot = from_snapshot(kinds[stream_id], version, body)
                if snapshot is not None:
                    known[stream_id] = snapshot
        for stream_id, kind in kinds.items():
            known.setdefault(stream_id, Loaded(kind.initial, 0, None))
        newer = self.store.load({stream_id: known[stream_id].version for stream_id in kinds})
        result = {
            stream_id: self.apply(kinds[stream_id], known[stream_id], newer[stream_id])
            for stream_id in kinds
        }
        self.remember(result)
        return result

    def snapshot(
        self, kind: Kind[S], stream_id: UUID, at_most: int | None = None
    ) -> Loaded[S] | None:
        """The stream's newest stored snapshot (at or below version `at_most`), if it has a
        usable one; never the in-process cache."""
        if self.snapshots is None or not kind.snapshots:
            return None
        if at_most is None:
            found = self.snapshots.get_many([stream_id]).get(stream_id)
        else:
            found = self.snapshots.get_at_or_below(stream_id, at_most)
        return None if found is None else from_snapshot(kind, *found)

    def kept_snapshots(self) -> dict[UUID, dict[int, bytes]]:
        """Every kept (older) snapshot by stream and version, undecoded (see `from_snapshot`)."""
        kept: dict[UUID, dict[int, bytes]] = {}
        if self.snapshots is not None:
            for stream_id, version, body in self.snapshots.history():
                kept.setdefault(stream_id, {})[version] = body
        return kept

    @staticmethod
    def apply(kind: Kind[S], loaded: Loaded[S], recorded: list[Recorded]) -> Loaded[S]:
        state, version, tenant_id = loaded.state, loaded.version, loaded.tenant_id
        for item in recorded:
            state = kind.evolve(item.event, state)
            version = item.originator_version
            tenant_id = tenant_id or item.metadata.tenant_id
        return Loaded(state, version, tenant_id)

    @staticmethod
    def advance(
        kind: Kind[S], loaded: Loaded[S], events: list[DomainEvent], tenant_id: UUID
    ) -> Loaded[S]:
        state = loaded.state
        for event in events:
            state = kind.evolve(event, state)
        return Loaded(state, loaded.version + len(events), loaded.tenant_id or tenant_id)

    def remember(self, loaded: Mapping[UUID, Loaded[Any]]) -> None:
        with self._lock:
            for stream_id, item in loaded.items():
                if item.version == 0:
                    continue
                current = self._cache.get(stream_id)
                if current is None or current.version <= item.version:
                    self._cache[stream_id] = item
                    self._cache.move_to_end(stream_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def forget(self, stream_ids: list[UUID]) -> None:
        with self._lock:
            for stream_id in stream_ids:
                self._cache.pop(stream_id, None)

    def forget_all(self) -> None:
        """Drops every cached state (after an erasure: cached states hold opened personal
        data, and erasures are rare enough not to track which)."""
        with self._lock:
            self._cache.clear()

    def saved(
        self,
        kinds: Mapping[UUID, Kind[Any]],
        before: Mapping[UUID, Loaded[Any]],
        after: Mapping[UUID, Loaded[Any]],
    ) -> None:
        """After a successful append: cache the new states, snapshot long streams."""
        self.remember(after)
        if self.snapshots is None:
            return
        every = self.snapshot_every
        for stream_id, item in after.items():
            if not kinds[stream_id].snapshots:
                continue
            previous = before[stream_id].version if stream_id in before else 0
            if item.version // every > previous // every:
                body = msgspec.json.encode({"tenant_id": item.tenant_id, "state": item.state})
                self.snapshots.put(stream_id, item.version, body)

    def _cached(self, kinds: Mapping[UUID, Kind[Any]]) -> dict[UUID, Loaded[Any]]:
        with self._lock:
            return {sid: self._cache[sid] for sid in kinds if sid in self._cache}


def from_snapshot(kind: Kind[S], version: int, body: bytes) -> Loaded[S] | None:
    """A stored snapshot's state, or None if it was written for another state shape."""
    try:
        snap = msgspec.json.decode(body, type=_Snapshot)
        state = msgspec.json.decode(snap.state, type=kind.state_type)
    except msgspec.MsgspecError:
        return None  # written for an older state shape: replay the stream instead
    return Loaded(state, version, snap.tenant_id)


class StreamLocks:
    """Striped in-process locks so threads of one process don't race on the same streams.

    Writers in other processes are still caught by optimistic concurrency; these locks only
    spare this process's threads the wasted round trips of a lost race.
    """

    def __init__(self, stripes: int = 1024) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    @contextmanager
    def hold(self, stream_ids: list[UUID]) -> Iterator[None]:
        stripes = sorted({stream_id.int % len(self._locks) for stream_id in stream_ids})
        with ExitStack() as stack:
            for stripe in stripes:
                stack.enter_context(self._locks[stripe])
            yield
