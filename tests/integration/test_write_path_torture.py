"""Concurrent appends without a table lock, while readers tail the global order (ADR 0032).

Writers race on a few shared streams with random transaction lengths: most commit at once,
some sleep inside the transaction, some roll back, some commit and then "die" before asking
for positions. Writers that find a sequencing run in progress leave without waiting for it
(ADR 0047): once the writers stop, every event of a writer that did not die must have its
position without any sweep. Readers tail the global order the ways Kontor does (the library's
`select_notifications` as projection runners poll it, its LISTEN/NOTIFY subscription, and the
relay's plain SQL). Every reader must see positions 1, 2, 3, ... without a hole (a hole would be
a skip: positions are gapless), every committed event exactly once, nothing that was rolled
back, each stream's versions in order, and all readers the same total order.

`KONTOR_TORTURE_SECONDS` sets how long the writers run (20 s by default).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import errors

from adapters.postgres.recorder import APPEND, APPEND_SEQUENCED, SEQUENCE_ALL, KontorRecorder
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("KONTOR_TORTURE_SECONDS", "20"))
WRITERS = 10
STREAMS = 24
Event = tuple[UUID, int]


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=4)
    yield built
    built.close()


class Ledger:
    """What the writers committed, and how they got there."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed: set[Event] = set()
        self.sequenced: set[Event] = set()  # committed by writers that went on to sequence
        self.outcomes = {"committed": 0, "slow": 0, "rolled back": 0, "conflict": 0, "died": 0}

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


def write(url: str, streams: list[UUID], stop: threading.Event, ledger: Ledger, seed: int) -> None:
    rng = random.Random(seed)
    with psycopg.connect(url) as conn, psycopg.connect(url, autocommit=True) as fast:
        while not stop.is_set():
            chosen = sorted(rng.sample(streams, rng.randint(1, 3)))
            with conn.transaction():
                current = dict(
                    conn.execute(
                        "SELECT s, coalesce((SELECT max(originator_version) FROM kontor_events "
                        "WHERE originator_id = s), 0) FROM unnest(%s::uuid[]) AS s",
                        (chosen,),
                    ).fetchall()
                )
            ids, versions = [], []
            for stream in chosen:
                for offset in range(1, rng.randint(1, 3) + 1):
                    ids.append(stream)
                    versions.append(current[stream] + offset)
            states = [f'{{"n": {rng.random()}}}'.encode() for _ in ids]
            roll = rng.random()
            if seed % 2 == 0 and 0.10 <= roll <= 0.88:
                # What KontorRecorder.append sends: append, commit and sequence in one CALL.
                args = (ids, versions, ["torture"] * len(ids), states, *(None,) * 6, *[[]] * 5)
                try:
                    fast.execute(APPEND_SEQUENCED, args)
                except errors.UniqueViolation:
                    ledger.count("conflict")
                    continue
                with ledger.lock:
                    ledger.committed.update(zip(ids, versions, strict=True))
                    ledger.sequenced.update(zip(ids, versions, strict=True))
                ledger.count("committed")
                continue
            try:
                with conn.transaction() as tx:
                    conn.execute(
                        APPEND,
                        (ids, versions, ["torture"] * len(ids), states, *(None,) * 6, *[[]] * 5),
                    )
                    if roll < 0.10:
                        conn.execute("SELECT pg_sleep(%s)", (rng.uniform(0.05, 0.8),))
                    if roll > 0.92:
                        raise psycopg.Rollback(tx)
            except errors.UniqueViolation:
                ledger.count("conflict")
                continue
            if roll > 0.92:
                ledger.count("rolled back")
                continue
            with ledger.lock:
                ledger.committed.update(zip(ids, versions, strict=True))
            ledger.count("slow" if roll < 0.10 else "committed")
            if 0.88 < roll <= 0.92:
                ledger.count("died")  # committed, never sequenced by this writer
                continue
            # Either way of sequencing: leave if a run is in progress, or wait for the lock.
            fast.execute("CALL kontor_sequence_pending()" if roll < 0.5 else SEQUENCE_ALL)
            with ledger.lock:
                ledger.sequenced.update(zip(ids, versions, strict=True))


class Reader:
    def __init__(self, name: str, after: int) -> None:
        self.name = name
        self.position = after
        self.seen: list[Event] = []
        self.error: BaseException | None = None

    def take(self, position: int, event: Event) -> None:
        assert position == self.position + 1, (
            f"{self.name} skipped from {self.position} to {position}"
        )
        self.position = position
        self.seen.append(event)


def poll(reader: Reader, fetch: Callable[[int, int], list[tuple[int, UUID, int]]],
         done: Callable[[int], bool]) -> None:  # fmt: skip
    rng = random.Random(reader.name)
    try:
        while not done(reader.position):
            rows = fetch(reader.position, rng.choice([1, 7, 100, 1000]))
            for position, stream, version in rows:
                reader.take(position, (stream, version))
            if not rows:
                time.sleep(rng.uniform(0, 0.005))
    except BaseException as error:
        reader.error = error


def test_concurrent_writers_never_make_a_tailing_reader_skip(
    container: Container, settings: Settings
) -> None:
    url = settings.database_url
    assert url is not None
    recorder: KontorRecorder = container.events.recorder  # type: ignore[assignment]
    start = recorder.max_notification_id() or 0
    streams = [uuid4() for _ in range(STREAMS)]
    ledger = Ledger()
    stop = threading.Event()
    final: list[int] = []  # the last position, once writers are done and swept

    def done(position: int) -> bool:
        return bool(final) and position >= final[0]

    def library_poll(after: int, limit: int) -> list[tuple[int, UUID, int]]:
        notes = recorder.select_notifications(after, limit, inclusive_of_start=False)
        return [(n.id, n.originator_id, n.originator_version) for n in notes]  # type: ignore[misc]

    relay_conn = psycopg.connect(url, autocommit=True)

    def relay_poll(after: int, limit: int) -> list[tuple[int, UUID, int]]:
        return relay_conn.execute(
            "SELECT notification_id, originator_id, originator_version FROM kontor_events "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
            (after, limit),
        ).fetchall()

    readers = [Reader("runner-poll-1", start), Reader("runner-poll-2", start),
               Reader("relay-sql", start)]  # fmt: skip
    threads = [
        threading.Thread(target=poll, args=(readers[0], library_poll, done)),
        threading.Thread(target=poll, args=(readers[1], library_poll, done)),
        threading.Thread(target=poll, args=(readers[2], relay_poll, done)),
    ]
    subscribed = Reader("subscription", start)

    def follow() -> None:
        try:
            with recorder.subscribe(gt=start) as subscription:
                for note in subscription:
                    subscribed.take(note.id, (note.originator_id, note.originator_version))  # type: ignore[arg-type]
                    if done(subscribed.position):
                        return
        except BaseException as error:
            subscribed.error = error

    threads.append(threading.Thread(target=follow, daemon=True))
    writers = [
        threading.Thread(target=write, args=(url, streams, stop, ledger, seed))
        for seed in range(WRITERS)
    ]
    for thread in threads + writers:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in writers:
        thread.join()
    with psycopg.connect(url) as conn:
        unplaced = conn.execute(
            "SELECT originator_id, originator_version FROM kontor_events "
            "WHERE notification_id IS NULL"
        ).fetchall()
    assert not ledger.sequenced & set(unplaced), "a writer left its events without a position"
    recorder.sequence()  # the sweep that picks up the writers that "died" after commit
    final.append(recorder.max_notification_id() or 0)
    deadline = time.monotonic() + 60
    for thread in threads[:-1]:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    # The subscription checks `done` only when a notification arrives: it may be waiting at the
    # end already, so wait for its position rather than for its (daemon) thread.
    while subscribed.position < final[0] and subscribed.error is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    relay_conn.close()

    print(f"\n{ledger.outcomes}, {len(ledger.committed)} events, positions {start}..{final[0]}")
    assert ledger.outcomes["slow"] > 0
    assert ledger.outcomes["rolled back"] > 0
    assert ledger.outcomes["died"] > 0
    mine = set(streams)
    orders = []
    for reader in [*readers, subscribed]:
        assert reader.error is None, f"{reader.name}: {reader.error!r}"
        assert reader.position == final[0], reader.name
        seen = [event for event in reader.seen if event[0] in mine]
        assert len(seen) == len(set(seen)), f"{reader.name} saw an event twice"
        assert set(seen) == ledger.committed, reader.name
        last: dict[UUID, int] = {}
        for stream, version in seen:
            assert version == last.get(stream, 0) + 1, f"{reader.name}: {stream} out of order"
            last[stream] = version
        orders.append(reader.seen)
    assert all(order == orders[0] for order in orders)
