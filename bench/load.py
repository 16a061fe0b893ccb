"""The load generator: N keep-alive clients placing 2-line orders over HTTP, in its own process.

Run by `bench.place_orders` as `python -m bench.load CONFIG_JSON`. Protocol on stdout, one line
each: `MEASURING` when the warm-up ends, `STOP` when the measured window ends (in-flight requests
are then drained, not counted), and finally one JSON object with the counts and latencies.

Kept lean on purpose (the server shares the machine's cores): uvloop, pre-encoded bodies, no
response parsing beyond reading the bytes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from array import array
from collections import Counter
from typing import Any

import aiohttp


def order_bodies(
    skus: list[str], price: str, countries: list[str], count: int, seed: int
) -> list[bytes]:
    """`count` distinct pre-encoded 2-line order bodies: two different random SKUs, shipping to a
    random one of the locations' countries (so allocation spreads over every location)."""
    rng = random.Random(seed)
    bodies = []
    for n in range(count):
        first, second = rng.sample(skus, 2)
        country = rng.choice(countries)
        body = {
            "store": "web",
            "channel": "web",
            "currency": "EUR",
            "customer": {"email": f"c{n}@bench.example", "name": f"Customer {n}"},
            "shipping_address": {
                "name": f"Customer {n}",
                "line1": f"{n} Bench Street",
                "city": "Bench City",
                "postal_code": "10115",
                "country": country,
            },
            "lines": [
                {"sku": first, "quantity": 1, "unit_price": price},
                {"sku": second, "quantity": rng.randint(1, 3), "unit_price": price},
            ],
        }
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


async def run(config: dict[str, Any]) -> dict[str, Any]:
    url = config["base_url"] + "/v1/orders"
    clients: int = config["clients"]
    warmup: float = config["warmup"]
    duration: float = config["duration"]
    bodies = order_bodies(config["skus"], config["price"], config["countries"], 4096, 1)

    latencies = array("d")  # seconds, requests completed inside the window
    statuses: Counter[str] = Counter()
    window = {"start": float("inf"), "end": float("inf")}
    stopping = False

    headers = {
        "Authorization": f"Bearer {config['api_key']}",
        "Content-Type": "application/json",
    }
    connector = aiohttp.TCPConnector(limit=0, force_close=False, enable_cleanup_closed=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=timeout, auto_decompress=False
    ) as session:

        async def client(seed: int) -> None:
            rng = random.Random(seed)
            choose = rng.choice
            clock = time.perf_counter
            record = latencies.append
            while not stopping:
                body = choose(bodies)
                began = clock()
                try:
                    async with session.post(url, data=body) as response:
                        await response.read()
                        status = str(response.status)
                except Exception as error:  # every failure is a counted outcome
                    status = f"exception:{type(error).__name__}"
                ended = clock()
                if window["start"] <= began and ended <= window["end"]:
                    record(ended - began)
                    statuses[status] += 1

        tasks = [asyncio.create_task(client(n)) for n in range(clients)]
        await asyncio.sleep(warmup)
        window["start"] = time.perf_counter()
        cpu_start = os.times()
        print("MEASURING", flush=True)
        await asyncio.sleep(duration)
        window["end"] = time.perf_counter()
        cpu_end = os.times()
        print("STOP", flush=True)
        stopping = True
        await asyncio.gather(*tasks)

    elapsed = window["end"] - window["start"]
    ordered = sorted(latencies)
    return {
        "window_s": elapsed,
        "statuses": dict(statuses),
        "latencies_ms": summarize(ordered),
        "client_cpu_s": (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system),
    }


def summarize(ordered: list[float]) -> dict[str, float | None]:
    def pct(p: float) -> float | None:
        if not ordered:
            return None
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    return {
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": ordered[-1] * 1000 if ordered else None,
        "mean": sum(ordered) / len(ordered) * 1000 if ordered else None,
    }


def main() -> None:
    config = json.loads(sys.argv[1])
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with granian[uvloop]
        result = asyncio.run(run(config))
    else:
        result = uvloop.run(run(config))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
