"""Write path: appends per second with the library's stock recorder, Kontor's sequenced recorder
and a plain one-row INSERT loop, at 1, 8, 32 and 64 concurrent writers, on the same PostgreSQL.

`uv run python -m bench.write_path [--seconds 3 --writers 1,8,32,64]`. Uses KONTOR_DATABASE_URL's
server (a fresh database `kontor_bench_wp_<hex>`, dropped at the end) or an embedded PostgreSQL.

A command is shaped like placing an order: one atomic append of 4 events over 3 streams (a new
order stream with 2 events, and one event on each of 2 stock streams). Each writer owns its stock
streams, so no append conflicts: this measures the write path, not contention on hot SKUs.
Writers are spread over up to 4 processes (threads inside), so Python is not the limit.
Commit-to-visible (`visible_*`) is measured by a reader tailing the global order (LISTEN plus a
2 ms poll), in wall-clock time on this one host: from the moment a writer's commit returned
(stock) or its append committed (kontor: the procedure returns `clock_timestamp()` taken right
after its COMMIT, before sequencing) to the moment the reader saw the command's first event.
The plain INSERT reference runs with the same durability (synchronous_commit on, one row and one
commit per round trip, the same number of connections, spread over the same processes).
`--trace` splits kontor's commit-to-visible in two (it redefines the sequencer's functions in the
bench database to log into unlogged tables, which costs a little): `placed_*` from the append's
commit to the sequencing run that gives it a position (the run's UPDATE done, before its commit),
and `seen_after_placed_*` from there until the tailing reader has it (the run's commit, the
reader's wake-up and query, and, on a machine whose cores the writers keep busy, the time the
reader and its backend wait for a core).
Results: bench/results/write_path.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import secrets
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.conninfo import conninfo_to_dict
from rich.console import Console
from rich.table import Table

from adapters.postgres.recorder import APPEND_SEQUENCED
from adapters.postgres.schema import APPEND_SEQUENCED_PROCEDURE, PLACE_FUNCTION

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STATE = (
    b'{"v":1,"meta":{"tenant_id":"00000000-0000-0000-0000-000000000000"},"data":{}}' + b" " * 300
)
STOCK_TABLE = "bench_stock_events"
console = Console(width=None if sys.stdout.isatty() else 120)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _datastore(url: str, pool: int) -> PostgresDatastore:
    parts = conninfo_to_dict(url)
    return PostgresDatastore(
        dbname=str(parts.get("dbname") or "postgres"),
        host=str(parts.get("host") or "127.0.0.1"),
        port=str(parts.get("port") or "5432"),
        user=str(parts.get("user") or "postgres"),
        password=str(parts.get("password") or ""),
        pool_size=pool,
        max_overflow=0,
        lock_timeout=30,
    )


def _command(order: UUID, stocks: list[UUID], versions: dict[UUID, int]) -> list[tuple[UUID, int]]:
    events = [(order, 1), (order, 2)]
    for stock in stocks:
        versions[stock] += 1
        events.append((stock, versions[stock]))
    return events


def _writer_process(config: dict[str, Any], out: Any, ready: Any, go: Any, start: Any) -> None:
    """Runs `threads` writers of one kind; sends back per-command latencies and commit times.
    Starts when every process has connected (spawning is slow on a busy machine)."""
    kind, url, threads = config["kind"], config["url"], config["threads"]
    connected = threading.Barrier(threads + 1)
    window: dict[str, float] = {}
    recorder: PostgresApplicationRecorder | None = None
    if kind == "stock":
        recorder = PostgresApplicationRecorder(
            _datastore(url, threads), events_table_name=STOCK_TABLE
        )
    results: list[tuple[list[float], dict[str, float]]] = []
    lock = threading.Lock()

    def run() -> None:
        latencies: list[float] = []
        commits: dict[str, float] = {}
        stocks = [uuid4(), uuid4()]
        versions = dict.fromkeys(stocks, 0)
        conn = psycopg.connect(url, autocommit=True) if kind != "stock" else None
        connected.wait()
        connected.wait()  # the window is set
        while (now := time.time()) < window["stop_at"]:
            order = uuid4()
            t0 = time.monotonic()
            committed_at = 0.0  # wall clock, comparable with the reader's
            if kind == "plain_insert":
                assert conn is not None
                conn.execute(
                    "INSERT INTO bench_plain (id, version, state) VALUES (%s, 1, %s)",
                    (order, STATE),
                    prepare=True,
                )
            elif kind == "stock":
                assert recorder is not None
                events = _command(order, stocks, versions)
                recorder.insert_events([StoredEvent(i, v, "bench", STATE) for i, v in events])
                committed_at = time.time()
            else:
                assert conn is not None
                events = _command(order, stocks, versions)
                ids, vs = [i for i, _ in events], [v for _, v in events]
                # What KontorRecorder.append sends; it answers when the append committed.
                [commit_time] = conn.execute(  # type: ignore[misc]
                    APPEND_SEQUENCED,
                    (ids, vs, ["bench"] * 4, [STATE] * 4, *(None,) * 6, *[[]] * 5),
                    prepare=True,
                    binary=True,
                ).fetchone()
                committed_at = commit_time.timestamp()
            done = time.monotonic()
            if now >= window["measure_from"]:
                latencies.append(done - t0)
                commits[str(order)] = committed_at
        if conn is not None:
            conn.close()
        with lock:
            results.append((latencies, commits))

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for thread in workers:
        thread.start()
    connected.wait()
    ready.put(True)
    go.wait()
    window["measure_from"] = start.value + config["warmup"]
    window["stop_at"] = window["measure_from"] + config["seconds"]
    connected.wait()
    for thread in workers:
        thread.join()
    if recorder is not None:
        recorder.datastore.close()
    out.put(results)


def _tail(url: str, kind: str, stop: threading.Event, seen: dict[str, float]) -> None:
    table, channel = ("kontor_events", "kontor_events") if kind == "kontor" else (STOCK_TABLE,) * 2
    with (
        psycopg.connect(url, autocommit=True) as listen,
        psycopg.connect(url, autocommit=True) as read,
    ):
        listen.execute(f"LISTEN {channel}")  # type: ignore[arg-type]
        position = read.execute(
            f"SELECT coalesce(max(notification_id), 0) FROM {table}"  # type: ignore[arg-type]
        ).fetchone()[0]  # type: ignore[index]
        while not stop.is_set():
            for _ in listen.notifies(timeout=0.002, stop_after=1):
                pass
            rows = read.execute(
                f"SELECT notification_id, originator_id FROM {table} "  # type: ignore[arg-type]
                "WHERE notification_id > %s AND originator_version = 1 AND topic = 'bench' "
                "ORDER BY notification_id LIMIT 5000",
                (position,),
            ).fetchall()
            now = time.time()
            for notification_id, originator_id in rows:
                seen.setdefault(str(originator_id), now)
                position = notification_id


def _logging(source: str, after: str, log: str) -> str:
    """`source` with the statement `log` added after `after`."""
    if after not in source:
        raise RuntimeError(f"the sequencer's source no longer has {after!r}: update TRACED")
    return source.replace(after, f"{after}\n    {log}")


# --trace: the sequencer's functions, logging each command's commit and each placed order.
TRACED = (
    "CREATE UNLOGGED TABLE IF NOT EXISTS bench_committed (id uuid, at timestamptz)",
    "CREATE UNLOGGED TABLE IF NOT EXISTS bench_placed (id uuid, at timestamptz)",
    _logging(
        PLACE_FUNCTION,
        "GET DIAGNOSTICS assigned = ROW_COUNT;",
        "INSERT INTO bench_placed SELECT originator_id, clock_timestamp() FROM kontor_events"
        " WHERE notification_id > last AND originator_version = 1;",
    ),
    _logging(
        APPEND_SEQUENCED_PROCEDURE,
        "committed_at := clock_timestamp();",
        "INSERT INTO bench_committed VALUES (ids[1], committed_at);\n    COMMIT;",
    ),
)


def trace(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in TRACED:
            conn.execute(statement)  # type: ignore[arg-type]
        conn.execute("TRUNCATE bench_committed, bench_placed")


def traced_figures(url: str, seen: dict[str, float]) -> dict[str, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        times = conn.execute(
            "SELECT c.id::text, extract(epoch FROM c.at)::float8, extract(epoch FROM p.at)::float8"
            " FROM bench_committed c JOIN bench_placed p USING (id)"
        ).fetchall()
    placed = [p - c for i, c, p in times if i in seen]
    after = [seen[i] - p for i, _, p in times if i in seen]
    return {
        "placed_p50_ms": round(percentile(placed, 0.5) * 1000, 2),
        "placed_p99_ms": round(percentile(placed, 0.99) * 1000, 2),
        "seen_after_placed_p50_ms": round(percentile(after, 0.5) * 1000, 2),
        "seen_after_placed_p99_ms": round(percentile(after, 0.99) * 1000, 2),
    }


def run_config(
    url: str, kind: str, writers: int, seconds: float, warmup: float, traced: bool = False
) -> dict[str, Any]:
    processes = min(writers, 4)
    share = [writers // processes + (1 if n < writers % processes else 0) for n in range(processes)]
    ctx = mp.get_context("spawn")
    out: Any = ctx.Queue()
    ready: Any = ctx.Queue()
    go = ctx.Event()
    start = ctx.Value("d", 0.0)
    config = {"kind": kind, "url": url, "warmup": warmup, "seconds": seconds}
    procs = [
        ctx.Process(
            target=_writer_process,
            args=({**config, "threads": n}, out, ready, go, start),
        )
        for n in share
    ]
    stop = threading.Event()
    seen: dict[str, float] = {}
    traced = traced and kind == "kontor"
    if traced:
        trace(url)
    tail = None
    if kind != "plain_insert":
        tail = threading.Thread(target=_tail, args=(url, kind, stop, seen))
        tail.start()
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get()
    start.value = time.time()
    go.set()
    results = [item for _ in procs for item in out.get()]
    for proc in procs:
        proc.join()
    time.sleep(0.3)
    stop.set()
    if tail is not None:
        tail.join()
    latencies = [x for lat, _ in results for x in lat]
    commits = {k: v for _, c in results for k, v in c.items()}
    visible = [seen[k] - t for k, t in commits.items() if k in seen]
    per_command = 1 if kind == "plain_insert" else 4
    commands = len(latencies) / seconds
    row: dict[str, Any] = {
        "recorder": kind,
        "writers": writers,
        "events_per_s": round(commands * per_command, 1),
        "commands_per_s": round(commands, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
    if kind != "plain_insert":
        row["visible_p50_ms"] = round(percentile(visible, 0.5) * 1000, 2)
        row["visible_p99_ms"] = round(percentile(visible, 0.99) * 1000, 2)
        row["visible_measured"] = len(visible)
    if traced:
        row |= traced_figures(url, {k: seen[k] for k in commits if k in seen})
    return row


def prepare(url: str) -> None:
    from interfaces.bootstrap import migrate
    from interfaces.config import Settings

    migrate(
        Settings(
            database_url=url, clickhouse_url=None, nats_url=None, redis_url=None, data_dir=Path(".")
        )
    )
    recorder = PostgresApplicationRecorder(_datastore(url, 1), events_table_name=STOCK_TABLE)
    recorder.create_table()
    recorder.datastore.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_plain (id uuid, version bigint, state bytea, "
            "PRIMARY KEY (id, version))"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per config")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--writers", default="1,8,32,64", help="writer counts, comma-separated")
    parser.add_argument("--recorders", default="plain_insert,stock,kontor")
    parser.add_argument(
        "--repeat", type=int, default=1, help="interleaved runs per config; the median is kept"
    )
    parser.add_argument(
        "--trace", action="store_true", help="split kontor's commit-to-visible (see above)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "write_path.json")
    args = parser.parse_args(argv)
    from tests.support.servers import fresh_database, postgres_server, scratch_dir

    rows = []
    with ExitStack() as stack:
        data_dir = stack.enter_context(scratch_dir())
        server = stack.enter_context(postgres_server(data_dir))
        url = stack.enter_context(fresh_database(server, f"kontor_bench_wp_{secrets.token_hex(4)}"))
        prepare(url)
        kinds = args.recorders.split(",")
        for writers in [int(n) for n in args.writers.split(",")]:
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            for repeat in range(args.repeat):
                # Interleaved, each round in another order: load from other sessions on this
                # shared machine comes and goes, and should not favour one recorder.
                for kind in kinds[repeat % len(kinds) :] + kinds[: repeat % len(kinds)]:
                    row = run_config(url, kind, writers, args.seconds, args.warmup, args.trace)
                    row["load_1m"] = round(os.getloadavg()[0], 2)
                    console.print(row)
                    runs[kind].append(row)
            for kind in kinds:
                ordered = sorted(runs[kind], key=lambda r: r["events_per_s"])
                median = dict(ordered[len(ordered) // 2])
                median["runs_events_per_s"] = [r["events_per_s"] for r in runs[kind]]
                rows.append(median)
    table = Table(title="write path (same PostgreSQL, same run)")
    for column in ("recorder", "writers", "events/s", "commands/s", "p50 ms", "p99 ms",
                   "visible p50", "visible p99"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        figures = [r["events_per_s"], r["commands_per_s"], r["p50_ms"], r["p99_ms"]]
        visible = [r.get("visible_p50_ms", "-"), r.get("visible_p99_ms", "-")]
        table.add_row(r["recorder"], str(r["writers"]), *(str(x) for x in figures + visible))
    console.print(table)
    for r in rows:
        if "placed_p50_ms" in r:
            console.print(
                f"kontor, {r['writers']} writers: placed p50/p99 {r['placed_p50_ms']} / "
                f"{r['placed_p99_ms']} ms after the commit; seen by the reader p50/p99 "
                f"{r['seen_after_placed_p50_ms']} / {r['seen_after_placed_p99_ms']} ms after that"
            )
    by = {(r["recorder"], r["writers"]): r for r in rows}
    for writers in sorted({r["writers"] for r in rows}):
        k, s, p = (by.get((name, writers)) for name in ("kontor", "stock", "plain_insert"))
        if k and s and p:
            console.print(
                f"{writers} writers: kontor commits {k['commands_per_s'] / p['commands_per_s']:.0%}"
                f" of plain INSERT transactions/s, {k['events_per_s'] / p['events_per_s']:.0%} of"
                f" its rows/s; {k['events_per_s'] / s['events_per_s']:.1f}x stock"
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2) + "\n")
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "seconds": args.seconds,
        "repeat": args.repeat,
        "load": os.getloadavg(),
    }
    console.print(f"wrote {args.output} ({meta})")


if __name__ == "__main__":
    main()
