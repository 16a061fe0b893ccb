"""Read models built by the eventsourcing library's ProjectionRunner.

The runner hands events over one at a time; the projection buffers them and applies each batch
in one transaction together with the tracking position of its last event, so every event is
applied exactly once (a crash loses only uncommitted work, which the runner replays), a row
touched many times in a batch is written once, and a view can be rebuilt from position zero.
A batch is written when it is full or `max_delay` after its first event, whichever comes first.
"""

from __future__ import annotations

import threading
import time
import weakref
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from adapters.postgres.isolation import isolation_ddl
from application.ports import Recorded
from domain.customer.model import CustomerErased
from domain.shared.personal import ERASED, erased

S = TypeVar("S")


class View(PostgresTrackingRecorder):
    """A tracking recorder that also owns the read-model tables it writes."""

    tables: ClassVar[tuple[str, ...]] = ()
    ddl: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(SQL(statement) for statement in self.ddl)  # type: ignore[arg-type]
        for table in self.tables:
            self.sql_create_statements.extend(SQL(s) for s in isolation_ddl(table))  # type: ignore[arg-type]

    def apply(self, batch: Sequence[Recorded], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self.write(curs, batch)
            self._insert_tracking(curs, tracking)

    @abstractmethod
    def write(self, curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None: ...

    def reset(self) -> None:
        """Empties the read model and its position, for a rebuild from zero."""
        with self.datastore.transaction(commit=True) as curs:
            for table in self.tables:
                curs.execute(f"TRUNCATE {table}")  # type: ignore[arg-type]
            curs.execute(
                f"DELETE FROM {self.tracking_table_name} "  # type: ignore[arg-type]
                "WHERE application_name <> '__migration__'"
            )


class StreamFoldView(View, Generic[S]):
    """A view with one row per stream, holding the stream's folded state (and columns from it).

    Rows remember their stream version, so an event at or below it is skipped: replays and
    overlapping batches never apply an event twice.
    """

    table: ClassVar[str]
    key_column: ClassVar[str] = "stream_id"
    state_type: ClassVar[type[Any]]
    initial: ClassVar[Any]
    evolve: ClassVar[Callable[[Any, Any], Any]]
    upsert: ClassVar[str]
    cache_size: ClassVar[int] = 5_000
    # Personal data held in the rows (ADR 0035): dotted paths in the state and text columns,
    # replaced by ERASED in every row of a customer when a CustomerErased arrives (the view's
    # projection must subscribe to it). Rows name their customer in a `customer_id` column.
    personal_paths: ClassVar[tuple[str, ...]] = ()
    personal_columns: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "tables" not in cls.__dict__:
            cls.tables = (cls.table,)

    @abstractmethod
    def row(self, recorded: Recorded, state: S) -> dict[str, Any]: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # States as last committed: this view is its table's only writer, so rows it holds
        # need not be read back. Updated only after a batch commits.
        self._states: OrderedDict[UUID, tuple[Any, int]] = OrderedDict()
        self._pending: dict[UUID, tuple[Any, int]] = {}
        self._decode = msgspec.json.Decoder(self.state_type).decode

    def apply(self, batch: Sequence[Recorded], tracking: Tracking) -> None:
        try:
            super().apply(batch, tracking)
        except BaseException:
            self._pending.clear()
            raise
        self._states.update(self._pending)
        for stream_id in self._pending:
            self._states.move_to_end(stream_id)
        self._pending.clear()
        while len(self._states) > self.cache_size:
            self._states.popitem(last=False)

    def reset(self) -> None:
        super().reset()
        self._states.clear()

    def stored(self, state: S) -> S:
        """The state as kept in the row (a view may drop what it does not need)."""
        return state

    def write(self, curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None:
        erasures = [r.event for r in batch if isinstance(r.event, CustomerErased)]
        if erasures:
            batch = [r for r in batch if not isinstance(r.event, CustomerErased)]
        self._fold(curs, batch)
        for erasure in erasures:
            self._erase(curs, erasure.customer_id)

    def _erase(self, curs: Cursor[DictRow], customer_id: UUID) -> None:
        """Every row of the customer, with their personal data erased (state and columns)."""
        curs.execute(
            f"SELECT {self.key_column} AS stream_id, version, state "  # type: ignore[arg-type]
            f"FROM {self.table} WHERE customer_id = %s",
            (customer_id,),
        )
        erased_columns = "".join(f", {column} = %s" for column in self.personal_columns)
        erased_values = [ERASED] * len(self.personal_columns)
        for r in curs.fetchall():
            cached = self._pending.get(r["stream_id"])
            state = cached[0] if cached else self._decode(bytes(r["state"]))
            state = erased(state, self.personal_paths)
            curs.execute(
                f"UPDATE {self.table} SET state = %s{erased_columns} "  # type: ignore[arg-type]
                f"WHERE {self.key_column} = %s",
                (msgspec.json.encode(state), *erased_values, r["stream_id"]),
            )
            self._pending[r["stream_id"]] = (state, r["version"])

    def _fold(self, curs: Cursor[DictRow], batch: Sequence[Recorded]) -> None:
        ids = list(dict.fromkeys(r.originator_id for r in batch))
        current = {sid: self._states[sid] for sid in ids if sid in self._states}
        unknown = [sid for sid in ids if sid not in current]
        if unknown:
            curs.execute(
                f"SELECT {self.key_column} AS stream_id, version, state "  # type: ignore[arg-type]
                f"FROM {self.table} WHERE {self.key_column} = ANY(%s)",
                (unknown,),
                prepare=True,
            )
            for r in curs.fetchall():
                current[r["stream_id"]] = (self._decode(bytes(r["state"])), r["version"])
        last: dict[UUID, Recorded] = {}
        for recorded in batch:
            state, version = current.get(recorded.originator_id, (self.initial, 0))
            if recorded.originator_version <= version:
                continue
            current[recorded.originator_id] = (
                self.stored(type(self).evolve(recorded.event, state)),
                recorded.originator_version,
            )
            last[recorded.originator_id] = recorded
        rows = [self.row(recorded, current[sid][0]) for sid, recorded in last.items()]
        if rows:
            curs.executemany(self.upsert, rows)  # type: ignore[arg-type]
        self._pending = {sid: current[sid] for sid in last}


class ViewProjection(Projection[View]):
    max_batch: ClassVar[int] = 500
    max_delay: ClassVar[float] = 0.05

    def __init__(self, view: View) -> None:
        super().__init__(view)
        self._batch: list[Recorded] = []
        self._tracking: Tracking | None = None
        self._lock = threading.Lock()
        self._due = threading.Event()
        threading.Thread(
            target=_flush_when_due, args=(weakref.ref(self), self._due), daemon=True
        ).start()

    @staticmethod
    def prepare(recorded: Recorded, tracking: Tracking) -> Recorded:
        """What the view is given for one event (a projection may add to it)."""
        return recorded

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        prepared = self.prepare(domain_event, tracking)
        with self._lock:
            self._batch.append(prepared)
            self._tracking = tracking
            if len(self._batch) >= self.max_batch:
                self._flush()
            elif len(self._batch) == 1:
                self._due.set()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._tracking is None:
            return
        # An IntegrityError means the tracking is already past this batch: another runner
        # applied it, and this transaction wrote nothing.
        with suppress(IntegrityError):
            self.view.apply(self._batch, self._tracking)
        self._batch, self._tracking = [], None


def _flush_when_due(projection: weakref.ref[ViewProjection], due: threading.Event) -> None:
    """Writes a partly filled batch `max_delay` after its first event, while the projection
    lives."""
    while True:
        if not due.wait(timeout=1.0):
            if projection() is None:
                return
            continue
        due.clear()
        target = projection()
        if target is None:
            return
        delay = target.max_delay
        del target
        time.sleep(delay)
        target = projection()
        if target is None:
            return
        try:
            target.flush()
        except Exception:  # the runner's own thread reports view errors; this one retries later
            due.set()
        del target
