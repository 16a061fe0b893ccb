"""Analytics reports called directly on kept tables: this tree's code against another commit's,
alternating on the same ClickHouse data in one run.

`uv run python -m bench.reports --tables DIR --against REV [--pairs 3] [--calls 30]`

DIR is what `python -m bench.analytics --keep DIR` left (the 1M-line history's tables under
DIR/clickhouse). Each side runs in a child process of its own that imports the reports from its
tree (REV: a git worktree) and opens the tables (chdb opens a data directory in one process at a
time); each side goes first in every other pair. Per report: four untimed calls, then `--calls`
timed ones. Prints a table and writes bench/results/reports_against.json.

The child runs this file with the measured tree first on the path: at the top it imports only
what every tree has.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.table import Table

console = Console()
YEAR = (datetime(2025, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
# A year ending two months before the history does: its customers with later orders are summed
# from their days rather than read from their totals so far.
EARLIER_YEAR = (datetime(2025, 9, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
MONTH = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
# Not on the hour: the partial hours and days at both ends are read from the order lines.
UNALIGNED = (datetime(2026, 10, 1, 9, 30, tzinfo=UTC), datetime(2026, 10, 31, 17, 45, tzinfo=UTC))
# Untimed calls per report first: ClickHouse compiles a statement's expressions on their third
# use, in that call (bench/README.md, "Warm-up"), so the 2nd and 4th calls are not steady state.
WARMUP_CALLS = 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, required=True, help="bench.analytics --keep DIR")
    parser.add_argument("--against", metavar="REV", help="the baseline commit (required)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=30, help="timed calls per report and run")
    parser.add_argument("--output", type=Path, help="default: bench/results/reports_against.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child and not args.against:
        parser.error("--against REV is required")
    return args


def child(tables: Path, calls: int) -> None:
    """Times each report with the code on PYTHONPATH; its timings (ms) as JSON on stdout."""
    from adapters.embedded.clickhouse import SharedClient
    from application.analytics.periods import comparison
    from interfaces.http.routes.analytics import Window, overview_report, timeseries_report
    from projections.analytics import queries, reports

    client = SharedClient(f"chdb://{(tables / 'clickhouse').resolve()}")
    (tenant,) = client.query("SELECT any(tenant_id) FROM order_lines").result_rows[0]

    def scope(period: tuple[datetime, datetime]) -> queries.Scope:
        return queries.Scope(UUID(str(tenant)), *period)

    def compared(period: tuple[datetime, datetime]) -> Window:
        now = scope(period)
        before = comparison(now.start, now.end, "previous_period")
        assert before is not None
        previous = dataclasses.replace(now, start=before[0], end=before[1])
        return Window(now, previous, "previous_period")

    def overview(period: tuple[datetime, datetime]) -> Any:
        return overview_report(client, compared(period))

    timed: dict[str, Callable[[], Any]] = {
        "overview (month)": lambda: overview(MONTH),
        "overview (unaligned month)": lambda: overview(UNALIGNED),
        "customers (year)": lambda: reports.customers(client, scope(YEAR), 3.0, 20),
        "customers (year ending 2 months early)": lambda: reports.customers(
            client, scope(EARLIER_YEAR), 3.0, 20
        ),
        "fulfilment (month)": lambda: reports.fulfilment(client, scope(MONTH), 48),
        "inventory (month)": lambda: reports.inventory(client, scope(MONTH), 14.0, 7.0),
        "timeseries (month by hour)": lambda: timeseries_report(
            client, compared(MONTH), "orders", "hour"
        ),
    }
    figures: dict[str, list[float]] = {}
    for label, call in timed.items():
        for _ in range(WARMUP_CALLS):
            call()
        figures[label] = []
        for _ in range(calls):
            started = time.perf_counter()
            call()
            figures[label].append(round((time.perf_counter() - started) * 1000, 2))
    print(json.dumps(figures))


def run_in(tree: Path, tables: Path, calls: int) -> dict[str, list[float]]:
    from bench.projector import in_child

    args = ("--child", "--tables", str(tables), "--calls", str(calls))
    timings: dict[str, list[float]] = in_child(tree, __file__, *args)
    return timings


def main() -> None:
    args = parse_args()
    if args.child:
        child(args.tables, args.calls)
        return
    # Here, not at the top: a child imports bench modules from the tree it measures.
    from bench.analytics import percentile
    from bench.projector import ROOT, worktree

    sides = [args.against, "this tree"]
    timings: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    with worktree(args.against) as rev_tree:
        trees = {args.against: rev_tree, "this tree": ROOT}
        for pair in range(args.pairs):
            for side in sides if pair % 2 == 0 else sides[::-1]:
                for label, values in run_in(trees[side], args.tables, args.calls).items():
                    timings[side].setdefault(label, []).extend(values)
                console.print(f"pair {pair + 1}: {side} done")
    reports = [
        {
            "report": label,
            **{
                side: {
                    "p50_ms": round(statistics.median(timings[side][label]), 1),
                    "p95_ms": round(percentile(timings[side][label], 0.95), 1),
                }
                for side in sides
            },
        }
        for label in timings[sides[1]]
        if label in timings[sides[0]]
    ]
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "sides": sides,  # the baseline first
        "calls_per_side": args.pairs * args.calls,
        "reports": reports,
    }
    output = args.output or ROOT / "bench/results/reports_against.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n")
    table = Table("report", *(f"{side} p50 / p95 ms" for side in sides))
    for row in reports:
        table.add_row(row["report"], *(f"{row[s]['p50_ms']} / {row[s]['p95_ms']}" for s in sides))
    console.print(table)
    console.print(f"written to {output}")


if __name__ == "__main__":
    main()
