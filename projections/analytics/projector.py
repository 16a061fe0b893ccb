"""The ClickHouse analytics projector: follows the event store's global order in batches.

Each batch: read up to `batch_size` events after the stored position (every topic), insert the
raw events and the fact rows they produce, recompute the daily rollup of the days they touched,
then store the batch's last position. ClickHouse has no transaction across those inserts, so a
crash between them leaves rows without the position: the restart reads the same events again
and inserts the same keys again, which the ReplacingMergeTree tables collapse (readers use
FINAL). Either way, the tables converge to exactly one row per fact (ADR 0024).

Catching up, a batch is folded in Python while the one before it is written to ClickHouse on
a writer thread (the engine releases the GIL): one batch at a time in flight, written in order
(ADR 0051).

The rollups of the days the batches touched, and then the position, are written when the
batches since the last position hold `settle_every` events, and at the end of every catch-up
(ADR 0061): the customer totals and the shipping days read their whole source table to find a
batch's customers and shipments, so recomputing them once for several batches costs what it
cost for one. A crash before a position replays every batch after the one before, as above.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import structlog
from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import tuple_row

from adapters.embedded.clickhouse import SharedClient
from adapters.postgres.mapper import Envelope, decode_sealed
from domain.shared.events import EVENT_TYPES
from projections.analytics import queries, schema
from projections.analytics.facts import (
    HANDLERS,
    PAYMENT_COLUMNS,
    RETURN_COLUMNS,
    STOCK_COLUMNS,
    Facts,
)
from projections.analytics.folds import Fold, Key
from projections.analytics.rollups import (
    ROLLUPS,
    recompute_customer_totals,
    recompute_shipping_daily,
)

log = structlog.get_logger("kontor.analytics")

EVENT_COLUMNS = [
    "position",
    "tenant_id",
    "stream_id",
    "version",
    "topic",
    "aggregate",
    "actor",
    "correlation_id",
    "causation_id",
    "request_id",
    "recorded_at",
    "data",
]
FACT_TABLES = (*queries.FACT_TABLES, "projector_position")
APPENDED_COLUMNS = {
    "stock_movements": STOCK_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "return_lines": RETURN_COLUMNS,
}
_envelope = msgspec.json.Decoder(Envelope)
READ = (
    "SELECT notification_id, originator_id, originator_version, topic, state "
    "FROM kontor_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
)
Row = tuple[int, UUID, int, str, bytes]
Days = set[tuple[str, date]]  # (tenant id as the fold rows hold it, day)


@dataclass(frozen=True)
class Batch:
    """A batch folded and ready to write: everything ClickHouse is to receive for it."""

    last: int  # the global position of its last event
    size: int
    events: list[tuple[Any, ...]]
    appended: dict[str, list[tuple[Any, ...]]]
    folded: list[tuple[Fold, list[tuple[Any, ...]]]]  # each fold's changed rows
    days: Days  # (tenant, day) of every order line the batch touched, replayed or not
    shipped: Days  # (tenant, day shipped) of every shipment it touched


# Every process that uses analytics migrates its schema on start (API, worker, CLI). Migration 7
# rebuilds a table by copy and exchange, which two interleaved runs would undo, so runs take
# turns on a PostgreSQL session lock, which all of those processes reach.
MIGRATION_LOCK = 7_700_002


def migrate(datastore: PostgresDatastore, client: SharedClient) -> list[int]:
    """Applies the analytics migrations not yet applied, one process at a time."""
    with datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            return schema.migrate(client)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def handled_topics() -> frozenset[str]:
    """Topics a fact table has a handler for: only these are decoded into events."""
    return frozenset(topic for topic, cls in EVENT_TYPES.items() if cls in HANDLERS)


@contextmanager
def collector_paused() -> Iterator[None]:
    """A batch allocates some hundred thousand objects while the fold cache holds millions of
    long-lived ones: the cycle collector, triggered by the allocations, walks the cache again
    and again. Reference counting frees the projector's objects (they form no cycles), so the
    collector rests while the projector catches up: not only while it folds, because reading a
    batch and re-enabling the collector after each one cost as much again (measured at 283,722
    events: 9.3 of 29 s). Other threads' cycles wait until the catch-up ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class AnalyticsProjector:
    name = "analytics"

    def __init__(
        self,
        datastore: PostgresDatastore,
        client: SharedClient,
        *,
        batch_size: int = 20_000,
        settle_every: int = 200_000,
    ) -> None:
        self.datastore = datastore
        self.client = client
        self.batch_size = batch_size
        self.settle_every = settle_every
        self.facts = Facts()
        for fold in self.facts.folds:
            # A batch folded while the one before it is written must find that one's groups
            # in the cache: a batch touches at most `batch_size` groups per fold.
            fold.cache_size = max(fold.cache_size, batch_size)
        self.handled = handled_topics()
        self._position: int | None = None  # of the last batch written, settled or not
        self._unsettled = Unsettled()

    def migrate(self) -> list[int]:
        return migrate(self.datastore, self.client)

    def position(self) -> int:
        if self._position is None:
            result = self.client.query(
                "SELECT max(position) FROM projector_position WHERE projector = {name:String}",
                parameters={"name": self.name},
            )
            self._position = int(result.result_rows[0][0] or 0)
        return self._position

    def lag(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT count(*) AS n FROM kontor_events "
                "WHERE notification_id > %s OR notification_id IS NULL",
                (self.position(),),
            )
            row = curs.fetchone()
        assert row is not None
        return int(row["n"])

    def read(self, after: int) -> list[Row]:
        """The next batch, as tuples in binary (no per-row dicts, no hex decoding of bytea)."""
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            curs.execute(READ, (after, self.batch_size), prepare=True, binary=True)
            return curs.fetchall()

    def run_once(self) -> int:
        """Projects the next batch, folding, writing and settling it in turn; returns its
        size."""
        with collector_paused():
            rows = self.read(self.position())
            if rows:
                batch = self.prepare(rows)
                try:
                    self.write(batch)
                    self.settle()
                except BaseException:
                    self.forget()  # its folds are committed: drop them
                    raise
            return len(rows)

    def catch_up(
        self,
        progress: Callable[[int, int], None] | None = None,
        stopping: threading.Event | None = None,
    ) -> int:
        """Projects until no event is left (or `stopping` is set); returns how many it
        projected. `progress(done, total)` follows the batches written."""
        total = self.lag() if progress is not None else 0
        done = 0
        after = self.position()

        def written(future: Future[None], size: int) -> None:
            nonlocal done
            future.result()
            done += size
            if progress is not None:
                progress(done, max(total, done))

        with (
            collector_paused(),
            ThreadPoolExecutor(1, thread_name_prefix="kontor-analytics-writer") as writer,
        ):
            writing: tuple[Future[None], int] | None = None
            try:
                while not (stopping is not None and stopping.is_set()):
                    rows = self.read(after)
                    if not rows:
                        break
                    batch = self.prepare(rows)  # while the batch before is written
                    if writing is not None:
                        written(*writing)
                    writing = (writer.submit(self.write, batch), batch.size)
                    after = batch.last
                if writing is not None:
                    written(*writing)
                self.settle()
            except BaseException:
                # The batches folded ahead of a failed write are not in ClickHouse: start
                # again from what it holds, once the batch in flight has ended either way.
                if writing is not None:
                    wait([writing[0]])
                self.forget()
                raise
        return done

    def run(self, stopping: threading.Event, idle: float = 0.2) -> None:
        while not stopping.is_set():
            try:
                self.catch_up(stopping=stopping)
            except Exception:  # a server hiccup: the position is kept, so retry later
                log.exception("analytics projection failed; retrying")
            stopping.wait(idle)

    def forget(self) -> None:
        """Drops what is cached, so the next batch starts from what ClickHouse holds: the
        batches after the stored position are read again, and touch their days again."""
        self._position = None
        self._unsettled = Unsettled()
        for fold in self.facts.folds:
            fold.clear()

    def reset(self) -> None:
        """Empties every analytics table, for a replay from zero."""
        for table in FACT_TABLES:
            self.client.command(f"TRUNCATE TABLE IF EXISTS {table}")
        self.forget()

    def prepare(self, rows: list[Row]) -> Batch:
        """Folds a batch in memory (reading from ClickHouse only the groups the cache lacks)
        and commits the folds: a batch prepared after it finds its groups as they will be once
        it is written. If the write fails, `forget` drops them."""
        facts = self.facts
        facts.appended = {}
        handled = self.handled
        decoded = []
        raw = []
        for position, stream_id, version, topic, state in rows:
            envelope = _envelope.decode(state)
            meta = envelope.meta
            raw.append(
                (
                    position, meta.tenant_id, stream_id, version, topic,
                    topic.partition(".")[0], meta.actor, meta.correlation_id,
                    meta.causation_id, meta.request_id, meta.recorded_at,
                    envelope.data,  # JSON as it is (read into the String column verbatim)
                )
            )  # fmt: skip
            if topic in handled:
                event = decode_sealed(topic, envelope.v, envelope.data, meta.tenant_id)
                decoded.append((position, stream_id, version, event, meta))
        needed: dict[Fold, list[Key]] = {}
        for _, stream_id, version, event, meta in decoded:
            for fold, key in facts.needs(stream_id, version, event, meta.tenant_id):
                needed.setdefault(fold, []).append(key)
        try:
            for fold, keys in needed.items():
                fold.load(self.client, keys)
            for position, stream_id, _, event, meta in decoded:
                facts.apply(position, stream_id, event, meta)
            # Replayed lines too: a crash may have come between writing the lines and
            # recomputing their days.
            days = {(r["tenant_id"], r["placed_at"].date()) for r in facts.order_lines.touched()}
            shipped = {
                (r["tenant_id"], r["shipped_at"].date())
                for r in facts.shipments.touched()
                if r["shipped_at"] is not None
            }
        except BaseException:
            for fold in facts.folds:
                fold.rollback()
            raise
        return Batch(
            last=rows[-1][0],
            size=len(rows),
            events=raw,
            appended=facts.appended,
            folded=[(fold, fold.commit()) for fold in facts.folds],
            days=days,
            shipped=shipped,
        )

    def write(self, batch: Batch) -> None:
        """Writes a prepared batch's rows (the writer thread while catching up), and settles
        once the batches since the last position hold `settle_every` events."""
        self.client.insert("events", batch.events, column_names=EVENT_COLUMNS)
        for table, appended in batch.appended.items():
            self.client.insert(table, appended, column_names=APPENDED_COLUMNS[table])
        for fold, changed in batch.folded:
            if changed:
                self.client.insert(fold.table, changed, column_names=fold.columns)
        self._unsettled.add(batch)
        self._position = batch.last
        if self._unsettled.events >= self.settle_every:
            self.settle()

    def settle(self) -> None:
        """Recomputes the rollups of the days the batches written since the last position
        touched, then stores the last one's position."""
        unsettled = self._unsettled
        if unsettled.last is None:
            return
        for days in _chunks(unsettled.days):
            where = _on_days("placed_at", days)
            for rollup in ROLLUPS:
                self.client.command(rollup.recompute(where))
            # After customer_daily, which the totals sum.
            self.client.command(recompute_customer_totals(where))
        for days in _chunks(unsettled.shipped):
            self.client.command(recompute_shipping_daily(_on_days("shipped_at", days)))
        self.client.insert(
            "projector_position",
            [(self.name, unsettled.last)],
            column_names=["projector", "position"],
        )
        self._unsettled = Unsettled()


@dataclass
class Unsettled:
    """What the batches written since the last stored position touched."""

    events: int = 0
    last: int | None = None
    days: Days = field(default_factory=set)
    shipped: Days = field(default_factory=set)

    def add(self, batch: Batch) -> None:
        self.events += batch.size
        self.last = batch.last
        self.days |= batch.days
        self.shipped |= batch.shipped


# (tenant, day)s per statement: each is about 50 characters of SQL, and a statement may not
# exceed ClickHouse's max_query_size (256 KiB by default). Many tenants' days can be due at once.
DAYS_PER_STATEMENT = 2_000


def _chunks(days: Days) -> Iterator[Days]:
    """The days in groups of at most DAYS_PER_STATEMENT, in order (none for no days)."""
    ordered = sorted(days)
    for start in range(0, len(ordered), DAYS_PER_STATEMENT):
        yield set(ordered[start : start + DAYS_PER_STATEMENT])


def _on_days(column: str, days: Days) -> str:
    """A filter on the (tenant, day of `column`)s given: a time range first (min-max index)."""
    listed = ",".join(f"('{t}','{d.isoformat()}')" for t, d in sorted(days))
    first, final = min(d for _, d in days), max(d for _, d in days)
    return (
        f"{column} >= toDate('{first.isoformat()}') "
        f"AND {column} < toDate('{final.isoformat()}') + 1 "
        f"AND (tenant_id, toDate({column})) IN ({listed})"
    )
