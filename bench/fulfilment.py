"""Fulfilment commands in process: the cost of shipping an order, next to placing one.

`uv run python -m bench.fulfilment [--orders 200]`. One fresh database (as `bench.place_orders`
makes it), one tenant, 2 locations x 20 SKUs with plenty of stock. Then, single-threaded through
the application layer (no HTTP), each timed per call:

- baseline: place a 2-line order (the foundation's command, measured in the same run);
- edit the order before picking (raise a line, add one: release/reserve in one append);
- create a shipment, record the pick, pack (recommended boxes), buy a label, ship;
- rate shopping (quotes of every carrier service for a packed shipment; no append).

Prints a table and writes `bench/results/fulfilment.json`. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from application.context import CommandContext
from application.orders import NewOrder
from application.stock import ReceiptLine
from bench.place_orders import RESULTS, database
from domain.order.decide import LineChange, RequestedLine
from domain.order.events import Address, Customer
from domain.product.model import Dimensions
from domain.shared.money import Money
from domain.shipment.decide import PickCount
from interfaces.bootstrap import build_container, migrate
from interfaces.config import Settings

console = Console(stderr=True)
STEPS = (
    "place (baseline)",
    "create shipment",
    "pick",
    "pack",
    "label",
    "ship",
    "rates",
    "edit lines",
)


def seed(container: Any, ctx: CommandContext, skus: list[str]) -> None:
    commands = container.catalog_commands
    commands.open_store(ctx, code="web", name="Web", currency="EUR", allow_backorders=False)
    for code, country in (("BER", "DE"), ("AMS", "NL")):
        commands.open_location(ctx, code=code, name=code, country=country, region=None)
    for sku in skus:
        commands.define_product(
            ctx,
            sku=sku,
            name=sku,
            weight_grams=400,
            dimensions=Dimensions(200, 120, 80),
            prices={"web": Money.of("10.00", "EUR")},
            unit_cost=None,
        )
    for code in ("BER", "AMS"):
        container.stock.receive(
            ctx, location=code, lines=[ReceiptLine(sku, 1_000_000) for sku in skus]
        )


def run(orders: int, output: Path) -> dict[str, Any]:
    timings: dict[str, list[float]] = {step: [] for step in STEPS}

    def timed(step: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = call(*args, **kwargs)
        timings[step].append(time.perf_counter() - started)
        return result

    with (
        tempfile.TemporaryDirectory(prefix="kontor-bench-") as scratch,
        database(Path(scratch)) as url,
    ):
        settings = Settings(url, None, None, None, Path(scratch))
        migrate(settings)
        container = build_container(settings, pool_size=4)
        try:
            tenant = container.tenants.create("bench-fulfilment").tenant_id
            ctx = CommandContext(tenant_id=tenant, actor="bench")
            skus = [f"SKU-{n:03d}" for n in range(20)]
            seed(container, ctx, skus)
            address = Address(
                name="B", line1="1 Bench St", city="Berlin", postal_code="10115", country="DE"
            )
            with Progress(console=console) as progress:
                task = progress.add_task("placing and shipping", total=orders)
                for n in range(orders):
                    first, second = skus[n % 20], skus[(n * 7 + 3) % 20]
                    new = NewOrder(
                        store="web",
                        channel="bench",
                        external_id=None,
                        currency="EUR",
                        customer=Customer(f"c{n}@bench.example", "C"),
                        shipping_address=address,
                        lines=[
                            RequestedLine(first, 1, Decimal("10.00")),
                            RequestedLine(second, 2, Decimal("10.00")),
                        ],
                    )
                    placed = timed("place (baseline)", container.orders.place, ctx, new)
                    order_id = placed.order.state.id
                    timed(
                        "edit lines",
                        container.orders.edit,
                        ctx,
                        order_id,
                        changes=[LineChange(2, 3)],
                        added=[RequestedLine(skus[(n * 3 + 1) % 20], 1, Decimal("10.00"))],
                    )
                    commands = container.fulfilment
                    shipment = timed(
                        "create shipment", commands.create, ctx, order_id, location="BER"
                    )
                    sid = shipment.state.id
                    counts = [
                        PickCount(no, line.quantity) for no, line in shipment.state.lines.items()
                    ]
                    timed("pick", commands.pick, ctx, sid, counts=counts)
                    timed("pack", commands.pack, ctx, sid, parcels=None)
                    timed("rates", commands.rates, tenant, sid)
                    timed("label", commands.label, ctx, sid, carrier="DHL", service="paket")
                    timed("ship", commands.ship, ctx, sid)
                    progress.advance(task)
        finally:
            container.close()

    def summary(samples: list[float]) -> dict[str, float]:
        ordered = sorted(samples)
        return {
            "per_second": round(len(samples) / sum(samples), 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        }

    result = {
        "benchmark": "fulfilment",
        "orders": orders,
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "steps": {step: summary(samples) for step, samples in timings.items()},
    }
    baseline = result["steps"]["place (baseline)"]["p50_ms"]
    ship_cycle = sum(result["steps"][s]["p50_ms"] for s in STEPS[1:6])
    result["full_cycle_p50_ms"] = round(ship_cycle, 2)
    result["full_cycle_vs_place"] = round(ship_cycle / baseline, 2)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")

    table = Table("step", "per second", "p50 ms", "p95 ms", title=f"fulfilment, {orders} orders")
    for step, figures in result["steps"].items():
        table.add_row(
            step, str(figures["per_second"]), str(figures["p50_ms"]), str(figures["p95_ms"])
        )
    Console().print(table)
    Console().print(
        f"create..ship p50 {ship_cycle:.2f} ms = {result['full_cycle_vs_place']}x placing an order"
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orders to place and ship")
    parser.add_argument("--output", type=Path, default=RESULTS / "fulfilment.json")
    args = parser.parse_args(argv)
    run(args.orders, args.output)


if __name__ == "__main__":
    main()
