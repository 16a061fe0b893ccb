"""Analytics projector: batches folded and written in turn against folded while the one before is
written (ADR 0051), or this tree's projector against another commit's, alternating on the same
history in one run.

`uv run python -m bench.projector [--lines 300000] [--pairs 3] [--batch 20000] [--against REV]
[--reporting]`

Writes the analytics bench's history once (embedded PostgreSQL, or a new database on
KONTOR_DATABASE_URL's server), then for each pair projects every event from zero into the embedded
ClickHouse twice, each side first in every other pair, after one untimed warm-up: `run_once` in a
loop (serial) and `catch_up` (pipelined); or, with `--against REV`, `catch_up` with this tree's
code and with REV's (a git worktree), each in a child process of its own. Prints a table and
writes bench/results/projector.json (projector_against.json with `--against`). With
`--reporting`, a thread of the same process calls the year's overview throughout each catch-up,
as a dashboard does while the API process's projector catches up on the embedded engine, and
each run records the overview's p50 / p95 / max.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.table import Table

from adapters.embedded.clickhouse import SharedClient, chdb_url
from bench.analytics import percentile, write_history
from interfaces.bootstrap import build_container, migrate
from interfaces.config import Settings
from projections.analytics.projector import AnalyticsProjector
from tests.support.servers import fresh_database, postgres_server

ROOT = Path(__file__).resolve().parents[1]
console = Console()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000, help="order lines to write")
    parser.add_argument("--pairs", type=int, default=3, help="serial + pipelined runs")
    parser.add_argument("--batch", type=int, default=20_000, help="projector batch size")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="compare this tree's catch-up with REV's (same projector API) instead of the modes",
    )
    parser.add_argument(
        "--reporting",
        action="store_true",
        help="a thread calls the year's overview throughout each catch-up (its latencies kept)",
    )
    parser.add_argument("--output", type=Path, help="default: bench/results/projector*.json")
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    return parser.parse_args()


def project(
    container: Any, client: SharedClient, batch: int, pipelined: bool, reporting: bool = False
) -> dict[str, Any]:
    """Projects every event from zero (emptied tables, a new projector: nothing cached);
    returns the run's figures. `reporting`: a thread asks for the overview meanwhile, as a
    dashboard does while the API process's projector catches up (embedded engine)."""
    projector = AnalyticsProjector(container.datastore, client, batch_size=batch)
    projector.migrate()
    projector.reset()
    done = threading.Event()
    latencies: list[float] = []
    reporter = threading.Thread(target=overviews, args=(client, done, latencies))
    if reporting:
        reporter.start()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if pipelined:
            events = projector.catch_up()
        else:
            events = 0
            while handled := projector.run_once():
                events += handled
    finally:
        done.set()
    seconds = time.perf_counter() - started
    figures = {
        "mode": "pipelined" if pipelined else "serial",
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "cpu_s": round(time.process_time() - cpu, 2),
        "load_1m": round(os.getloadavg()[0], 2),
    }
    if reporting:
        reporter.join()
        figures["overviews"] = len(latencies)
    if latencies:
        figures["overview_p50_ms"] = round(statistics.median(latencies), 1)
        figures["overview_p95_ms"] = round(percentile(latencies, 0.95), 1)
        figures["overview_max_ms"] = round(max(latencies), 1)
    return figures


def overviews(client: SharedClient, done: threading.Event, latencies: list[float]) -> None:
    """The history's year overview called in a loop until `done` (from the first batch with
    lines on), each call's milliseconds appended to `latencies`."""
    from interfaces.http.routes.analytics import Window, overview_report
    from projections.analytics.queries import Scope

    tenant = UUID(int=0)
    while tenant.int == 0 and not done.wait(0.05):  # until the first lines are in
        (found,) = client.query("SELECT any(tenant_id) FROM order_lines").result_rows[0]
        tenant = UUID(str(found))
    year = Window(
        Scope(tenant, datetime(2025, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        None,
        "none",
    )
    while not done.is_set():
        started = time.perf_counter()
        overview_report(client, year)
        latencies.append((time.perf_counter() - started) * 1000)


def bench_settings(url: str, data_dir: Path) -> Settings:
    """PostgreSQL at `url`, the embedded ClickHouse in `data_dir`, nothing else."""
    return Settings(
        database_url=url, clickhouse_url=None, nats_url=None, redis_url=None, data_dir=data_dir
    )


def child(url: str, batch: int, reporting: bool) -> None:
    """One pipelined catch-up with the code on PYTHONPATH, its figures as JSON on stdout."""
    with tempfile.TemporaryDirectory(prefix="kontor-bench-child-") as scratch:
        data_dir = Path(scratch)
        container = build_container(bench_settings(url, data_dir), pool_size=4)
        try:
            client = SharedClient(chdb_url(data_dir))
            figures = project(container, client, batch, True, reporting)
        finally:
            container.close()
    print(json.dumps(figures))


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """REV checked out in a temporary git worktree (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="kontor-bench-rev-") as scratch:
        path = Path(scratch) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", "--quiet", str(path), rev], check=True)
        try:
            yield path
        finally:
            subprocess.run([*git, "remove", "--force", str(path)], check=False)


def in_child(tree: Path, script: str, *args: str) -> Any:
    """Runs a bench script in a child process that imports Kontor from `tree`; returns what it
    printed last, as JSON."""
    done = subprocess.run(
        [sys.executable, str(Path(script).resolve()), *args],
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"the child process for {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def project_in(tree: Path, url: str, batch: int, reporting: bool) -> dict[str, Any]:
    """A catch-up in a child process that imports the projector from `tree`."""
    args = ("--child", url, "--batch", str(batch), *(("--reporting",) if reporting else ()))
    figures: dict[str, Any] = in_child(tree, __file__, *args)
    return figures


def main() -> None:
    args = parse_args()
    if args.child:
        child(args.child, args.batch, args.reporting)
        return
    runs: list[dict[str, Any]] = []
    sides: list[str]
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as scratch:
        data_dir = Path(scratch)
        with postgres_server(data_dir) as server, fresh_database(server) as url:
            settings = bench_settings(url, data_dir)
            migrate(settings)
            container = build_container(settings, pool_size=4)
            try:
                tenant = container.tenants.create("bench")
                events, lines = write_history(container, tenant.tenant_id, args.lines)
                client = SharedClient(chdb_url(data_dir))  # one engine per process
                # Untimed: the first projection after writing the history ran slower (caches,
                # the server's checkpoint), whichever mode went first.
                console.print({"warm_up": project(container, client, args.batch, False)})
                with worktree(args.against) if args.against else nullcontext() as rev_tree:
                    run: dict[str, Callable[[], dict[str, Any]]]
                    if rev_tree is None:
                        run = {
                            "serial": lambda: project(
                                container, client, args.batch, False, args.reporting
                            ),
                            "pipelined": lambda: project(
                                container, client, args.batch, True, args.reporting
                            ),
                        }
                    else:
                        run = {
                            args.against: lambda: project_in(
                                rev_tree, url, args.batch, args.reporting
                            ),
                            "this tree": lambda: project_in(ROOT, url, args.batch, args.reporting),
                        }
                    sides = list(run)
                    for pair in range(args.pairs):
                        # Each side goes first in every other pair.
                        for side in sides if pair % 2 == 0 else sides[::-1]:
                            runs.append({**run[side](), "side": side})
                            console.print({"pair": pair + 1, **runs[-1]})
            finally:
                container.close()
    before = [r["events_per_s"] for r in runs if r["side"] == sides[0]]
    after = [r["events_per_s"] for r in runs if r["side"] == sides[1]]
    output = args.output or ROOT / "bench/results" / (
        "projector_against.json" if args.against else "projector.json"
    )
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "order_lines": lines,
        "events": events,
        "batch": args.batch,
        "sides": sides,  # the baseline first
        "median_events_per_s": {
            sides[0]: round(statistics.median(before)),
            sides[1]: round(statistics.median(after)),
        },
        "pair_gains_pct": [round((a / b - 1) * 100, 1) for b, a in zip(before, after, strict=True)],
        "runs": runs,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n")
    table = Table("side", "median events/s", "runs")
    for side, values in zip(sides, (before, after), strict=True):
        table.add_row(side, str(figures["median_events_per_s"][side]), str(values))
    console.print(table)
    console.print(f"gain per pair (%): {figures['pair_gains_pct']}")
    console.print(f"written to {output}")


if __name__ == "__main__":
    main()
