"""Analytics benchmark: projector throughput into the embedded ClickHouse, and the latency of
every analytics endpoint over a year of order lines.

`uv run python -m bench.analytics [--lines 1000000] [--requests 30] [--keep DIR]`

1. Writes a year of orders (OrderPlaced with 1-5 lines, weekly and yearly seasonality) and
   shipments (ShipmentCreated + ShipmentShipped for 85 %) straight into the event store in
   large appends: the same events the commands write, without the command path's cost.
2. Baseline, in the same run: reading and decoding every event from PostgreSQL, no ClickHouse.
3. The projector from position zero into a fresh chdb directory: events/s and order lines/s.
4. Every analytics endpoint through the Litestar app (in process, no network): p50/p95.
Results go to bench/results/analytics.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from adapters.embedded.clickhouse import shared_client
from adapters.postgres.mapper import Envelope, decode_sealed, encode_state
from application.context import CommandContext
from application.ports import Append
from domain.order.events import Address, Customer, OrderLine, OrderPlaced
from domain.shared.money import Money
from domain.shipment.events import ShipmentCreated, ShipmentLine, ShipmentShipped
from interfaces.bootstrap import build_container, migrate
from interfaces.config import Settings
from interfaces.seed_history import demand
from projections.analytics.projector import AnalyticsProjector
from tests.support.servers import fresh_database, postgres_server

_envelope = msgspec.json.Decoder(Envelope)

ROOT = Path(__file__).resolve().parent.parent
console = Console(width=None if sys.stdout.isatty() else 120)
STORES = [
    ("web-eu", "shopify", "EUR"),
    ("web-uk", "shopify", "GBP"),
    ("marketplace", "amazon", "EUR"),
]
COUNTRIES = {"EUR": [("DE", "BE"), ("FR", "IDF"), ("NL", "NH")], "GBP": [("GB", "ENG")]}
END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 365
LINES_PER_ORDER = (1, 2, 2, 3, 3, 4, 5)
# Folded fact tables and rollups: those a batch rewrites rows of (ReplacingMergeTree).
OPTIMIZED = (
    "order_lines", "shipments", "hourly_sales", "daily_sales", "daily_categories",
    "customer_daily", "customer_totals", "shipping_daily", "daily_customers",
    "customer_first_orders",
)  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines to write")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per endpoint")
    parser.add_argument("--batch", type=int, default=20_000, help="projector batch size")
    parser.add_argument(
        "--no-optimize", action="store_true", help="time the tables as the catch-up left them"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/analytics.json")
    parser.add_argument(
        "--keep",
        type=Path,
        help="write the ClickHouse tables under this directory and keep them (clickhouse/), "
        "to query the 1M lines afterwards with chdb",
    )
    return parser.parse_args()


def write_history(container: Any, tenant_id: UUID, lines: int) -> tuple[int, int]:
    """Returns (events, order lines) written. Orders and shipments carry their customer's id
    and destination, as the commands write them, so their personal data is sealed (ADR 0035)."""
    rng = random.Random(3)
    customer_ids: dict[int, UUID] = {}
    start = END - timedelta(days=DAYS)
    weights = [demand(start + timedelta(days=d), start, DAYS) for d in range(DAYS)]
    skus = [(f"SKU-{n:04d}", Decimal(rng.randrange(300, 9000)) / 100) for n in range(500)]
    ctx = CommandContext(tenant_id=tenant_id, actor="system:bench")
    written_lines = events = 0
    appends: list[Append] = []
    with Progress(console=console) as progress:
        task = progress.add_task("writing history", total=lines)
        # Orders arrive in time order, as a live store's do, over the whole year.
        orders = round(lines / statistics.mean(LINES_PER_ORDER)) + 1
        times = iter(
            sorted(
                start + timedelta(days=day, seconds=rng.randrange(86_400))
                for day in rng.choices(range(DAYS), weights=weights, k=orders)
            )
        )
        while written_lines < lines:
            placed_at = next(times, END - timedelta(seconds=1))
            store, channel, currency = STORES[rng.choices(range(3), weights=(5, 2, 3))[0]]
            country, region = rng.choice(COUNTRIES[currency])
            order_id = uuid4()
            chosen = rng.sample(skus, rng.choice(LINES_PER_ORDER))
            order_lines = [
                OrderLine(n, sku, rng.choice((1, 1, 2, 3)), Money(price, currency))
                for n, (sku, price) in enumerate(chosen, start=1)
            ]
            customer = rng.randrange(120_000)
            email = f"c{customer}@example.com"
            customer_id = customer_ids.get(customer)
            if customer_id is None:
                customer_id = customer_ids[customer] = container.customer_keys.identify(
                    tenant_id, email
                )
            address = Address(
                name="C", line1="1 Main St", city="City", postal_code="1", country=country,
                region=region,
            )  # fmt: skip
            placed = OrderPlaced(
                order_id=order_id, store=store, channel=channel, external_id=None,
                currency=currency, customer=Customer(email, "C"), shipping_address=address,
                lines=order_lines, placed_at=placed_at, customer_id=customer_id,
            )  # fmt: skip
            appends.append(Append(order_id, 0, [placed]))
            events += 1
            if rng.random() < 0.85:
                shipment_id = uuid4()
                shipped_lines = [
                    ShipmentLine(ln.line_no, ln.sku, ln.quantity) for ln in order_lines
                ]
                shipped_at = placed_at + timedelta(hours=rng.choice((4, 20, 26, 50)))
                appends.append(
                    Append(
                        shipment_id,
                        0,
                        [
                            ShipmentCreated(
                                shipment_id=shipment_id, order_id=order_id, store=store,
                                location="BER-1", lines=shipped_lines,
                                created_at=placed_at + timedelta(hours=1), destination=address,
                                order_placed_at=placed_at, customer_id=customer_id,
                            ),
                            ShipmentShipped(
                                shipment_id=shipment_id, order_id=order_id, store=store,
                                location="BER-1", lines=shipped_lines, shipped_at=shipped_at,
                            ),
                        ],
                    )
                )  # fmt: skip
                events += 2
            written_lines += len(order_lines)
            if len(appends) >= 5_000:
                copy_events(container, appends, ctx.metadata(END))
                appends = []
                progress.update(task, completed=written_lines)
        if appends:
            copy_events(container, appends, ctx.metadata(END))
        progress.update(task, completed=written_lines)
    return events, written_lines


def copy_events(container: Any, appends: list[Append], metadata: Any) -> None:
    """COPY into the events table: the rows `PostgresEventStore.append` writes (same topic and
    envelope), without its per-event statement cost, then sequenced. Only for a table no one
    else writes."""
    with (
        container.datastore.transaction(commit=True) as curs,
        curs.copy(
            "COPY kontor_events (originator_id, originator_version, topic, state) FROM STDIN"
        ) as copy,
    ):
        for append in appends:
            for version, event in enumerate(append.events, start=1):
                copy.write_row(
                    (append.stream_id, version, type(event).topic(), encode_state(event, metadata))
                )
    # Appends commit without a position (ADR 0032): give these theirs, as a writer would.
    container.store.recorder.sequence()


def read_and_decode(container: Any, batch: int) -> tuple[int, float, float]:
    """The baseline: the projector's read path (pages of tuples in binary) and decoding every
    event into its Struct as the projector does, personal data left sealed (ADR 0052), without
    ClickHouse."""
    reader = AnalyticsProjector(container.datastore, None, batch_size=batch)  # type: ignore[arg-type]
    started, cpu = time.perf_counter(), time.process_time()
    position = count = 0
    while rows := reader.read(position):
        for _, _, _, topic, state in rows:
            envelope = _envelope.decode(state)
            decode_sealed(topic, envelope.v, envelope.data, envelope.meta.tenant_id)
        count += len(rows)
        position = rows[-1][0]
    return count, time.perf_counter() - started, time.process_time() - cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


MONTH = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
YEAR = {"from": "2025-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "compare": "none"}
WEEK = {"from": "2026-10-25T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
# Not on the hour: the partial hours and days at both ends are read from the order lines.
UNALIGNED = {"from": "2026-10-01T09:30:00Z", "to": "2026-10-31T17:45:00Z"}
HALF = {"from": "2026-05-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "compare": "previous_year"}
# A year ending two months before the history: customers with later orders are summed from their
# days, not read from their totals so far (ADR 0060).
EARLIER_YEAR = {"from": "2025-09-01T00:00:00Z", "to": "2026-09-01T00:00:00Z", "compare": "none"}
ENDPOINTS: list[tuple[str, dict[str, Any]]] = [
    ("overview", MONTH),
    ("overview", YEAR),
    ("overview", UNALIGNED),
    ("timeseries", {"metric": "revenue", "interval": "day"} | YEAR),
    ("timeseries", {"metric": "orders", "interval": "hour"} | MONTH),
    ("timeseries", {"metric": "aov", "interval": "week"} | HALF),
    ("breakdown", {"metric": "revenue", "by": "sku"} | MONTH),
    ("breakdown", {"metric": "units", "by": "country"} | MONTH),
    ("breakdown", {"metric": "orders", "by": "category"} | UNALIGNED),
    ("fulfilment", MONTH),
    ("inventory", MONTH),
    ("customers", YEAR),
    ("customers", EARLIER_YEAR),
    ("forecast", {"metric": "revenue", "horizon": 90, "to": "2026-11-01"}),
    ("anomalies", WEEK),
]


# Calls per endpoint before the timed ones (the first is reported as `first_ms`, the others as
# `warmup_ms`): ClickHouse compiles a statement's expressions and aggregations to machine code
# on their third use, in the call that uses them, so the 2nd and 4th calls of a report are
# 40-100 ms slower than the ones after (bench/README.md, "Warm-up").
WARMUP_CALLS = 4


def time_endpoints(
    container: Any, api_key: str, requests: int, backtest: dict[str, Any]
) -> list[dict[str, Any]]:
    from litestar.testing import TestClient

    from interfaces.http.app import create_app

    results = []
    headers = {"Authorization": f"Bearer {api_key}"}
    with TestClient(create_app(container)) as client:
        for path, params in ENDPOINTS:
            url = f"/v1/analytics/{path}"
            started = time.perf_counter()
            first = client.get(url, params=params, headers=headers)
            cold = time.perf_counter() - started
            assert first.status_code == 200, first.text
            warmup = []
            for _ in range(WARMUP_CALLS - 1):
                started = time.perf_counter()
                assert client.get(url, params=params, headers=headers).status_code == 200
                warmup.append(round((time.perf_counter() - started) * 1000, 1))
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(url, params=params, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            label = (
                path
                + " "
                + ",".join(f"{k}={v}" for k, v in params.items() if k not in ("from", "to"))
            )
            days = ""
            if "from" in params:
                span = datetime.fromisoformat(params["to"]) - datetime.fromisoformat(params["from"])
                days = f" ({span / timedelta(days=1):.4g} d)"
                if params["to"] < MONTH["from"]:  # a period that ends early says when
                    days = f" ({span / timedelta(days=1):.4g} d to {params['to'][:10]})"
            if path == "forecast":
                console.print(f"forecast backtest: {first.json()['backtest']}")
                backtest.update(first.json()["backtest"])
            results.append(
                {
                    "endpoint": label.strip() + days,
                    "first_ms": round(cold * 1000, 1),
                    "warmup_ms": warmup,
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(percentile(timings, 0.95), 1),
                    # as runs before 2026-12-07 19:00 UTC timed them: from the second call on
                    "p95_ms_from_second_call": round(
                        percentile(warmup + timings[: max(0, requests - len(warmup))], 0.95), 1
                    ),
                }
            )
            console.print(results[-1])
    return results


def main() -> None:
    args = parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    load: dict[str, float] = {}  # 1-minute load average at each phase: the machine is shared
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as scratch:
        data_dir = Path(scratch)
        analytics_dir = (args.keep or data_dir) / "clickhouse"
        if analytics_dir.exists():
            sys.exit(f"{analytics_dir} exists: give --keep a new directory")
        with postgres_server(data_dir) as server, fresh_database(server) as url:
            settings = Settings(
                database_url=url, clickhouse_url=f"chdb://{analytics_dir}",
                nats_url=None, redis_url=None, data_dir=data_dir,
            )  # fmt: skip
            migrate(settings)
            container = build_container(settings, pool_size=4)
            try:
                tenant = container.tenants.create("bench")
                started = time.perf_counter()
                events, lines = write_history(container, tenant.tenant_id, args.lines)
                write_s = time.perf_counter() - started
                load["baseline"] = os.getloadavg()[0]
                decoded, decode_s, decode_cpu = read_and_decode(container, args.batch)
                assert settings.clickhouse_url is not None
                client = shared_client(settings.clickhouse_url)
                projector = AnalyticsProjector(container.datastore, client, batch_size=args.batch)
                projector.migrate()
                with Progress(console=console) as progress:
                    task = progress.add_task("projecting", total=events)
                    load["projector"] = os.getloadavg()[0]
                    started, cpu = time.perf_counter(), time.process_time()
                    projector.catch_up(lambda done, total: progress.update(task, completed=done))
                    project_s = time.perf_counter() - started
                    project_cpu = time.process_time() - cpu
                load["after_projector"] = os.getloadavg()[0]
                # The steady state of a live store, where background merges have caught up
                # with the projector: right after a bulk catch-up, a table holds every version
                # a batch wrote of its rows until merges collapse them (`--no-optimize` keeps
                # that state: FINAL then merges them per request).
                tables = client.query(
                    "SELECT name FROM system.tables WHERE database = currentDatabase()"
                ).result_rows
                existing = {name for (name,) in tables}
                optimized = [t for t in OPTIMIZED if t in existing and not args.no_optimize]
                for table in optimized:
                    client.command(f"OPTIMIZE TABLE {table} FINAL")
                backtest: dict[str, Any] = {}
                load["endpoints"] = os.getloadavg()[0]
                endpoints = time_endpoints(container, tenant.api_key, args.requests, backtest)
                load["after_endpoints"] = os.getloadavg()[0]
            finally:
                container.close()
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_1m": load,
        "optimized_before_timing": optimized,
        "order_lines": lines,
        "events": events,
        "write_events_per_s": round(events / write_s),
        "baseline_read_decode_events_per_s": round(decoded / decode_s),
        "projector_events_per_s": round(events / project_s),
        "projector_order_lines_per_s": round(lines / project_s),
        "projector_seconds": round(project_s, 1),
        # Per second of this process's CPU time (all its threads, chdb's included): on a
        # shared machine, a steadier figure than wall time.
        "baseline_events_per_cpu_s": round(decoded / decode_cpu),
        "projector_events_per_cpu_s": round(events / project_cpu),
        "forecast_backtest": backtest,
        "endpoints": endpoints,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    table = Table("endpoint", "first ms", "p50 ms", "p95 ms", "p95 from 2nd call")
    for row in endpoints:
        table.add_row(
            row["endpoint"],
            *(str(row[k]) for k in ("first_ms", "p50_ms", "p95_ms", "p95_ms_from_second_call")),
        )
    console.print(table)
    summary = {k: v for k, v in figures.items() if k != "endpoints"}
    console.print(msgspec.json.format(msgspec.json.encode(summary)).decode())
    console.print(f"written to {args.output}")


if __name__ == "__main__":
    main()
