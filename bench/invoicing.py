"""Invoices issued per second by the invoicing process manager, and reconciliation latency.

`uv run python -m bench.invoicing [--orders 200 --rounds 3]`. For each scenario a fresh tenant
places `--orders` orders, ships each (appending the fulfilment slice's `ShipmentShipped`), then
1 or 4 issuer threads, each with its own container (own stream locks and caches, like separate
worker processes), hand the shipments to `InvoicingProcess.handle`:

- `1 issuer, 1 series`: one worker, no contention.
- `4 issuers, 1 series`: one gapless series, every issue appends to the same series stream, so
  concurrent issuers conflict and retry (optimistic concurrency on PostgreSQL).
- `4 issuers, 4 series` (baseline): the same load over four stores, hence four series.

Rounds interleave the scenarios; the rate reported is the median round, latencies are pooled.
Then GET /v1/reconciliation (in-process Litestar client, no network) over the baseline's last
tenant, once the read models have caught up. Writes bench/results/invoicing.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import structlog
from rich.console import Console
from rich.table import Table

from application.context import CommandContext
from application.executor import Conflict
from application.orders import NewOrder
from application.ports import Append, Recorded
from application.stock import ReceiptLine
from bench.place_orders import RESULTS, database
from domain.order.decide import RequestedLine
from domain.order.events import Address, Customer
from domain.product.model import Dimensions
from domain.shared.money import Money
from domain.shipment.events import ShipmentLine, ShipmentShipped
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings

console = Console(width=None if sys.stdout.isatty() else 120)
SCENARIOS = (("1 issuer, 1 series", 1, 1), ("4 issuers, 1 series", 4, 1))
BASELINE = ("4 issuers, 4 series", 4, 4)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="shipped orders per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every scenario")
    parser.add_argument("--requests", type=int, default=20, help="reconciliation GETs timed")
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "invoicing.json", help="results JSON"
    )
    return parser.parse_args(argv)


def shipped_orders(container: Container, tenant_id: UUID, orders: int, series: int) -> None:
    """Stores s1..sN (one series each), one product, stock, then `orders` orders spread over
    the stores, each shipped whole."""
    ctx = CommandContext(tenant_id=tenant_id, actor="bench")
    catalog = container.catalog_commands
    stores = [f"s{n}" for n in range(1, series + 1)]
    for store in stores:
        catalog.open_store(ctx, code=store, name=store, currency="EUR", allow_backorders=False)
    catalog.open_location(ctx, code="BER", name="Berlin", country="DE", region=None)
    catalog.define_product(
        ctx,
        sku="MUG",
        name="Mug",
        weight_grams=300,
        dimensions=Dimensions(10, 10, 10),
        prices={store: Money.of("9.90", "EUR") for store in stores},
        unit_cost=None,
    )
    container.stock.receive(ctx, location="BER", lines=[ReceiptLine("MUG", orders * 2)])
    address = Address(name="A", line1="L 1", city="Berlin", postal_code="10117", country="DE")
    for n in range(orders):
        store = stores[n % series]
        placed = container.orders.place(
            ctx,
            NewOrder(
                store=store,
                channel="web",
                external_id=None,
                currency="EUR",
                customer=Customer(f"c{n}@bench.example", f"Customer {n}"),
                shipping_address=address,
                lines=[RequestedLine("MUG", 2, Decimal("9.90"))],
            ),
        ).order.state
        assert placed.id is not None
        shipment_id = uuid4()
        shipped = ShipmentShipped(
            shipment_id=shipment_id,
            order_id=placed.id,
            store=store,
            location="BER",
            lines=[ShipmentLine(1, "MUG", 2)],
            shipped_at=datetime.now(UTC),
        )
        container.store.append([Append(shipment_id, 0, [shipped])], ctx.metadata())


def shipments_of(container: Container, tenant_id: UUID) -> list[Recorded]:
    found: list[Recorded] = []
    position = 0
    while batch := container.invoicing.feed.read(position, (ShipmentShipped.topic(),), 1000):
        found += [r for _, r in batch if r.metadata.tenant_id == tenant_id]
        position = batch[-1][0]
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def issue(settings: Settings, name: str, issuers: int, series: int, orders: int) -> dict[str, Any]:
    with ExitStack() as stack:
        containers = [build_container(settings, pool_size=2) for _ in range(issuers)]
        for container in containers:
            stack.callback(container.close)
        tenant = containers[0].tenants.create(f"bench {name}")
        shipped_orders(containers[0], tenant.tenant_id, orders, series)
        shipments = shipments_of(containers[0], tenant.tenant_id)
        latencies: list[list[float]] = [[] for _ in range(issuers)]
        gave_up = [0] * issuers

        def work(index: int) -> None:
            process = containers[index].invoicing
            for recorded in shipments[index::issuers]:
                started = time.perf_counter()
                while True:  # what the worker loop does after a conflict: handle it again
                    try:
                        process.handle(recorded)
                        break
                    except Conflict:
                        gave_up[index] += 1
                latencies[index].append(time.perf_counter() - started)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(issuers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        numbers = sorted(
            loaded.state.document.number
            for recorded in shipments
            for loaded in containers[0].invoices.of_order(tenant.tenant_id, recorded.event.order_id)
        )
        per_series = [n for n in numbers if n.startswith("S1-")]
        gapless = per_series == [f"S1-{k:06d}" for k in range(1, len(per_series) + 1)]
        every = [s for lat in latencies for s in lat]
        return {
            "scenario": name,
            "issuers": issuers,
            "series": series,
            "shipments": len(shipments),
            "invoices": len(numbers),
            "gapless": gapless,
            "conflicts_given_up": sum(gave_up),
            "seconds": round(elapsed, 3),
            "invoices_per_second": round(len(numbers) / elapsed, 1),
            "latencies": every,
            "api_key": tenant.api_key,
        }


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One scenario over its rounds: the median rate, latencies pooled, counts summed."""
    every = [s for r in rounds for s in r["latencies"]]
    first = rounds[0]
    return {
        "scenario": first["scenario"],
        "issuers": first["issuers"],
        "series": first["series"],
        "rounds": len(rounds),
        "shipments": sum(r["shipments"] for r in rounds),
        "invoices": sum(r["invoices"] for r in rounds),
        "gapless": all(r["gapless"] for r in rounds),
        "conflicts_given_up": sum(r["conflicts_given_up"] for r in rounds),
        "invoices_per_second_by_round": [r["invoices_per_second"] for r in rounds],
        "invoices_per_second": statistics.median(r["invoices_per_second"] for r in rounds),
        "p50_ms": round(percentile(every, 0.50) * 1000, 2),
        "p99_ms": round(percentile(every, 0.99) * 1000, 2),
    }


def reconciliation_latency(settings: Settings, result: dict[str, Any], requests: int) -> Any:
    from litestar.testing import TestClient

    from interfaces.http.app import create_app
    from projections.runner import start_runners, wait_until_caught_up

    container = build_container(settings, pool_size=4)
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)
        wait_until_caught_up(container.datastore, timeout=120)
        client = stack.enter_context(TestClient(create_app(container)))
        headers = {"Authorization": f"Bearer {result['api_key']}"}
        timings = []
        rows = 0
        for _ in range(requests + 2):
            started = time.perf_counter()
            response = client.get("/v1/reconciliation", headers=headers)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            rows = len(response.json()["orders"])
        timings = timings[2:]  # the first two warm the plan and the connection pool
        return {
            "orders": rows,
            "requests": requests,
            "p50_ms": round(statistics.median(timings) * 1000, 2),
            "p99_ms": round(percentile(timings, 0.99) * 1000, 2),
        }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as tmp, database(Path(tmp)) as url:
        settings = Settings(
            database_url=url, clickhouse_url=None, nats_url=None, redis_url=None,
            data_dir=Path(tmp),
        )  # fmt: skip
        migrate(settings)
        # Rounds interleave the scenarios, so load from elsewhere on the machine falls on all.
        rounds: dict[str, list[dict[str, Any]]] = {}
        for number in range(1, args.rounds + 1):
            for name, issuers, series in (*SCENARIOS, BASELINE):
                console.log(f"round {number}, {name}: {args.orders} shipped orders")
                done = issue(settings, name, issuers, series, args.orders)
                rounds.setdefault(name, []).append(done)
        console.log("reconciliation over the baseline's last tenant")
        reconciliation = reconciliation_latency(settings, done, args.requests)
        results = [combine(found) for found in rounds.values()]

    baseline = results[-1]["invoices_per_second"]
    table = Table(
        title=f"invoicing, {args.orders} shipped orders per scenario and round, "
        f"median of {args.rounds} rounds"
    )
    for column in ("scenario", "invoices", "gapless", "inv/s", "vs baseline", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        table.add_row(
            r["scenario"], f"{r['invoices']}/{r['shipments']}", str(r["gapless"]),
            f"{r['invoices_per_second']:.1f}", f"{r['invoices_per_second'] / baseline:.2f}x",
            f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"GET /v1/reconciliation over {reconciliation['orders']} orders: "
        f"p50 {reconciliation['p50_ms']:.1f} ms, p99 {reconciliation['p99_ms']:.1f} ms"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "invoicing",
                "at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "orders": args.orders,
                "baseline": BASELINE[0],
                "scenarios": results,
                "reconciliation": reconciliation,
            },
            indent=2,
        )
        + "\n"
    )
    console.log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
