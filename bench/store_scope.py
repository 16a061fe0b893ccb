"""What a store scope costs a read: the same GET as the tenant's owner key (baseline, same run)
and as a key limited to one store.

`uv run python -m bench.store_scope [--orders 300] [--rounds 200]`. One fresh database, one
tenant with two stores sharing a warehouse (web: BER; b2b: BER and MUC), 30 SKUs stocked in both
locations, orders for both stores, projections caught up. Then each route is called `rounds`
times per key through the real app (Litestar's in-process client: routing, guard, rate limit,
handler, SQL; no socket), the two keys alternating. A scoped call pays one catalog read for its
stores' locations; movements also join orders and returns to blank other stores' references.

Prints a table and writes `bench/results/store_scope.json`. Nothing is asserted. The machine is
shared with other engineers' test suites: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from rich.console import Console
from rich.table import Table

from application.access import Role
from bench.place_orders import RESULTS, database
from interfaces.bootstrap import build_container, migrate
from interfaces.config import Settings
from interfaces.http.app import create_app
from projections.runner import start_runners, wait_until_caught_up

console = Console(stderr=True)
ROUTES = (
    ("/v1/inventory", {"limit": 500}),
    ("/v1/inventory/SKU-001/movements", {"limit": 100}),
    ("/v1/pick-work", {}),
    ("/v1/orders", {"limit": 50}),
    ("/v1/reconciliation", {}),
)


def seed(http: TestClient[Any], owner: dict[str, str], orders: int) -> None:
    def ok(method: str, path: str, body: Any) -> Any:
        response = http.request(method, path, json=body, headers=owner)
        assert response.status_code in (200, 201), response.text
        return response.json()

    for code in ("web", "b2b"):
        ok("POST", "/v1/stores", {"code": code, "name": code, "currency": "EUR"})
    for code, region in (("BER", "BE"), ("MUC", "BY")):
        ok("POST", "/v1/locations", {"code": code, "name": code, "country": "DE", "region": region})
    ok("PUT", "/v1/stores/web/locations", {"locations": ["BER"]})
    ok("PUT", "/v1/stores/b2b/locations", {"locations": ["BER", "MUC"]})
    skus = [f"SKU-{n:03}" for n in range(1, 31)]
    for sku in skus:
        prices = [{"store": s, "amount": "9.90", "currency": "EUR"} for s in ("web", "b2b")]
        ok("POST", "/v1/products", {"sku": sku, "name": sku, "prices": prices})
    for location in ("BER", "MUC"):
        lines = [{"sku": sku, "quantity": 10_000} for sku in skus]
        ok("POST", "/v1/stock/receipts", {"location": location, "lines": lines})
    for n in range(orders):
        store, region = ("web", "BE") if n % 2 else ("b2b", ("BE", "BY")[n % 4 == 0])
        address = {"name": "A", "line1": "x", "city": "B", "postal_code": "1", "country": "DE"}
        ok(
            "POST",
            "/v1/orders",
            {
                "store": store,
                "channel": "web",
                "currency": "EUR",
                "customer": {"email": f"c{n % 40}@example.com", "name": "C"},
                "shipping_address": address | {"region": region},
                "lines": [
                    {"sku": skus[(n + k) % len(skus)], "quantity": 1, "unit_price": "9.90"}
                    for k in range(2)
                ],
            },
        )


def run(orders: int, rounds: int, output: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, database(Path(scratch)) as url:
        settings = Settings(url, None, None, None, Path(scratch))
        settings = replace(settings, rate_limit_per_key=10**9, rate_limit_per_ip=10**9)
        migrate(settings)
        container = build_container(settings, pool_size=4)
        tenant = container.tenants.create("bench-scope")
        owner = {"Authorization": f"Bearer {tenant.api_key}"}
        scoped_key = container.tenants.issue_key(
            tenant.tenant_id, "web only", roles=frozenset({Role.ADMIN}), stores=frozenset({"web"}),
            actor="bench",
        )  # fmt: skip
        scoped = {"Authorization": f"Bearer {scoped_key.api_key}"}
        http = TestClient(create_app(container))
        console.log(f"seeding {orders} orders")
        seed(http, owner, orders)
        with ExitStack() as stack:
            for runner in start_runners(container.env):
                stack.enter_context(runner)
            wait_until_caught_up(container.datastore, timeout=120)
        results: dict[str, Any] = {}
        for path, params in ROUTES:
            samples: dict[str, list[float]] = {"owner": [], "scoped": []}
            for _ in range(rounds):
                for name, headers in (("owner", owner), ("scoped", scoped)):
                    started = time.perf_counter()
                    response = http.get(path, params=params, headers=headers)
                    samples[name].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
            results[path] = {
                name: {
                    "p50_ms": round(statistics.median(values), 2),
                    "p95_ms": round(statistics.quantiles(values, n=20)[18], 2),
                }
                for name, values in samples.items()
            }
            results[path]["scoped_over_owner_p50"] = round(
                results[path]["scoped"]["p50_ms"] / results[path]["owner"]["p50_ms"], 2
            )
        container.close()
    report = {
        "benchmark": "store_scope",
        "orders": orders,
        "rounds": rounds,
        "machine": platform.platform(),
        "note": "2 shared cores, other test suites running: noisy; compare the ratio",
        "routes": results,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    table = Table("route", "owner p50 ms", "scoped p50 ms", "owner p95", "scoped p95", "ratio")
    for path, found in results.items():
        table.add_row(
            path,
            str(found["owner"]["p50_ms"]),
            str(found["scoped"]["p50_ms"]),
            str(found["owner"]["p95_ms"]),
            str(found["scoped"]["p95_ms"]),
            str(found["scoped_over_owner_p50"]),
        )
    Console().print(table)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--output", type=Path, default=RESULTS / "store_scope.json")
    args = parser.parse_args(argv)
    run(args.orders, args.rounds, args.output)


if __name__ == "__main__":
    main()
