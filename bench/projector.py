"""Analytics projector: batches folded and written in turn against folded while the one before is
written (ADR 0051), alternating on the same history in one run.

`uv run python -m bench.projector [--lines 300000] [--pairs 3] [--batch 20000]`

Writes the analytics bench's history once (embedded PostgreSQL, or a new database on
KONTOR_DATABASE_URL's server), then for each pair projects every event from zero into the embedded
ClickHouse twice: `run_once` in a loop (serial) and `catch_up` (pipelined), each first in every
other pair, after one untimed warm-up. Prints a table and writes bench/results/projector.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from adapters.embedded.clickhouse import SharedClient, chdb_url
from bench.analytics import write_history
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
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/projector.json")
    return parser.parse_args()


def project(container: Any, client: SharedClient, batch: int, pipelined: bool) -> dict[str, Any]:
    """Projects every event from zero (emptied tables, a new projector: nothing cached);
    returns the run's figures."""
    projector = AnalyticsProjector(container.datastore, client, batch_size=batch)
    projector.migrate()
    projector.reset()
    started, cpu = time.perf_counter(), time.process_time()
    if pipelined:
        events = projector.catch_up()
    else:
        events = 0
        while handled := projector.run_once():
            events += handled
    seconds = time.perf_counter() - started
    return {
        "mode": "pipelined" if pipelined else "serial",
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "cpu_s": round(time.process_time() - cpu, 2),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    args = parse_args()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as scratch:
        data_dir = Path(scratch)
        with postgres_server(data_dir) as server, fresh_database(server) as url:
            settings = Settings(
                database_url=url, clickhouse_url=None, nats_url=None, redis_url=None,
                data_dir=data_dir,
            )  # fmt: skip
            migrate(settings)
            container = build_container(settings, pool_size=4)
            try:
                tenant = container.tenants.create("bench")
                events, lines = write_history(container, tenant.tenant_id, args.lines)
                client = SharedClient(chdb_url(data_dir))  # one engine per process
                # Untimed: the first projection after writing the history ran slower (caches,
                # the server's checkpoint), whichever mode went first.
                console.print({"warm_up": project(container, client, args.batch, False)})
                for pair in range(args.pairs):
                    # Each mode goes first in every other pair.
                    for pipelined in (False, True) if pair % 2 == 0 else (True, False):
                        runs.append(project(container, client, args.batch, pipelined))
                        console.print({"pair": pair + 1, **runs[-1]})
            finally:
                container.close()
    serial = [r["events_per_s"] for r in runs if r["mode"] == "serial"]
    pipelined = [r["events_per_s"] for r in runs if r["mode"] == "pipelined"]
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "order_lines": lines,
        "events": events,
        "batch": args.batch,
        "serial_median_events_per_s": round(statistics.median(serial)),
        "pipelined_median_events_per_s": round(statistics.median(pipelined)),
        "pair_gains_pct": [
            round((p / s - 1) * 100, 1) for s, p in zip(serial, pipelined, strict=True)
        ],
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    table = Table("mode", "median events/s", "runs")
    table.add_row("serial", str(figures["serial_median_events_per_s"]), str(serial))
    table.add_row("pipelined", str(figures["pipelined_median_events_per_s"]), str(pipelined))
    console.print(table)
    console.print(f"gain per pair (%): {figures['pair_gains_pct']}")
    console.print(f"written to {args.output}")


if __name__ == "__main__":
    main()
