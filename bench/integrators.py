"""Integrator and auditor figures: relay throughput and latency, audit state-as-of, rebuild rate.

`uv run python -m bench.integrators [--events 30000 --stream-events 10000 --rate 1000]`.
Each figure comes with a baseline measured in the same run on the same servers; see
bench/README.md. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import nats
from rich.console import Console
from rich.table import Table

from adapters.embedded.nats import start_nats
from adapters.postgres.history import last_position, recorded_pages
from application.audit import state_as_of
from application.kinds import STOCK
from application.ports import Append, Metadata
from application.streams import Loaded, Streams
from bench.place_orders import database
from domain.stock.events import StockReceived
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from projections.rebuild import rebuild
from projections.relay import Relay, RelayConfig

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
console = Console(width=None if sys.stdout.isatty() else 120)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000, help="events for the relay run")
    parser.add_argument("--stream-events", type=int, default=10_000, help="one stream's length")
    parser.add_argument("--rate", type=float, default=1_000.0, help="events/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=8.0, help="latency run length")
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "integrators.json", help="results JSON"
    )
    return parser.parse_args(argv)


@contextmanager
def nats_url(data_dir: Path) -> Iterator[str]:
    url = os.environ.get("KONTOR_NATS_URL")
    if url:
        yield url
        return
    server = start_nats(data_dir)
    try:
        yield server.url
    finally:
        server.stop()


def metadata(tenant_id: Any) -> Metadata:
    return Metadata(
        tenant_id=tenant_id, actor="bench", correlation_id=uuid4(), recorded_at=datetime.now(UTC)
    )


def received(n: int) -> StockReceived:
    return StockReceived(sku="SKU", location="BER", quantity=1 + n % 5, reference=f"r{n}")


def append_events(container: Container, total: int, streams: int, per_append: int = 50) -> None:
    """`total` StockReceived events over `streams` streams, `per_append` per transaction."""
    tenant = uuid4()
    ids = [uuid4() for _ in range(streams)]
    versions = dict.fromkeys(ids, 0)
    for start in range(0, total, per_append):
        stream = ids[(start // per_append) % streams]
        count = min(per_append, total - start)
        version = versions[stream]
        container.store.append(
            [Append(stream, version, [received(version + i) for i in range(count)])],
            metadata(tenant),
        )
        versions[stream] = version + count


# --- relay ------------------------------------------------------------------------------------


def relay_throughput(settings: Settings, total: int) -> dict[str, Any]:
    """Relays every stored event to a fresh stream from position zero."""
    assert settings.database_url is not None
    assert settings.nats_url is not None
    token = uuid4().hex[:8]
    config = RelayConfig(
        settings.database_url, settings.nats_url, f"BENCH_{token}", f"bench{token}", f"b{token}"
    )
    relay = Relay(config)

    async def until_done() -> float:
        stop = asyncio.Event()

        def on_page(position: int) -> None:
            if relay.published >= total:
                stop.set()

        started = time.perf_counter()
        await relay.run(stop, on_page)
        return time.perf_counter() - started

    seconds = asyncio.run(until_done())
    return {
        "events": relay.published,
        "seconds": round(seconds, 3),
        "events_per_s": round(relay.published / seconds),
    }


def raw_publish(settings: Settings, total: int) -> dict[str, Any]:
    """Baseline: the same number of pre-built messages through nats-py publish_async, no
    database, no encoding: the client's own ceiling."""
    assert settings.nats_url is not None
    token = uuid4().hex[:8]

    async def run() -> float:
        nc = await nats.connect(settings.nats_url)
        js = nc.jetstream(publish_async_max_pending=2_000)
        await js.add_stream(name=f"RAW_{token}", subjects=[f"raw{token}.>"])
        payload = b'{"sku":"SKU","location":"BER","quantity":3,"reference":"r1"}'
        started = time.perf_counter()
        for start in range(0, total, 2_000):
            futures = [
                await js.publish_async(
                    f"raw{token}.x", payload, headers={"Nats-Msg-Id": f"{token}-{i}"}
                )
                for i in range(start, min(start + 2_000, total))
            ]
            await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
        await js.delete_stream(f"RAW_{token}")
        await nc.close()
        return elapsed

    seconds = asyncio.run(run())
    return {"events": total, "seconds": round(seconds, 3), "events_per_s": round(total / seconds)}


def relay_latency(
    container: Container, settings: Settings, rate: float, duration: float
) -> dict[str, Any]:
    """Appends one event per transaction at `rate`/s while the relay runs; a core NATS
    subscriber notes when each message arrives. Latency = arrival - recorded_at (which is
    taken just before the append, so it includes the commit)."""
    assert settings.database_url is not None
    assert settings.nats_url is not None
    token = uuid4().hex[:8]
    config = RelayConfig(
        settings.database_url, settings.nats_url, f"LAT_{token}", f"lat{token}", f"l{token}"
    )
    latencies: list[float] = []
    tenant = uuid4()
    target = int(rate * duration)

    async def run() -> None:
        nc = await nats.connect(settings.nats_url)

        async def seen(message: Any) -> None:
            headers = message.headers or {}
            if message.subject.split(".")[1] == str(tenant):
                recorded = datetime.fromisoformat(headers["Kontor-Recorded-At"])
                latencies.append(time.time() - recorded.timestamp())

        relay = Relay(config)
        stop = asyncio.Event()
        relay_task = asyncio.create_task(relay.run(stop))
        end = last_position(container.datastore)
        while relay.position < end:  # first relay what the store already holds
            await asyncio.sleep(0.05)
        await nc.subscribe(f"lat{token}.>", cb=seen)
        writer = threading.Thread(target=write_paced, args=(container, tenant, rate, target))
        writer.start()
        while writer.is_alive():
            await asyncio.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(latencies) < target and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await relay_task
        await nc.close()

    asyncio.run(run())
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {
        "rate_per_s": rate,
        "events": len(ordered),
        "expected": target,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def write_paced(container: Container, tenant: Any, rate: float, total: int) -> None:
    stream = uuid4()
    started = time.perf_counter()
    for n in range(total):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        container.store.append([Append(stream, n, [received(n)])], metadata(tenant))


# --- audit ------------------------------------------------------------------------------------


def audit_state_as_of(container: Container, length: int) -> dict[str, Any]:
    """State as of versions of a `length`-event stock stream: at the end (the latest snapshot),
    50 versions earlier and halfway (from a kept snapshot), and at the end with no snapshot
    store at all (replayed from version 1). Baseline: the application's own load of the
    current state."""
    tenant = uuid4()
    stream = uuid4()
    # Appended and snapshotted as the executor does it (a snapshot every 100 versions).
    loaded: Loaded[Any] = Loaded(STOCK.initial, 0, None)
    for start in range(0, length, 50):
        events = [received(start + i) for i in range(min(50, length - start))]
        container.store.append([Append(stream, start, events)], metadata(tenant))
        after = Streams.advance(STOCK, loaded, list(events), tenant)
        container.streams.saved({stream: STOCK}, {stream: loaded}, {stream: after})
        loaded = after
    without = Streams(container.store)

    def timed(streams: Streams, version: int) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            state_as_of(container.history, streams, tenant, "stock", stream, version=version)
            runs.append(time.perf_counter() - started)
        return round(statistics.median(runs) * 1000, 1)

    live = []
    for _ in range(5):
        container.streams.forget([stream])
        started = time.perf_counter()
        container.streams.load({stream: STOCK})
        live.append(time.perf_counter() - started)
    return {
        "stream_events": length,
        "latest_ms": timed(container.streams, length),
        "latest_minus_50_ms": timed(container.streams, length - 50),
        "halfway_ms": timed(container.streams, length // 2 + 500),
        "latest_full_replay_no_snapshot_ms": timed(without, length),
        "baseline_application_load_ms": round(statistics.median(live) * 1000, 2),
    }


# --- rebuild ----------------------------------------------------------------------------------


def rebuild_rate(container: Container, name: str) -> dict[str, Any]:
    started = time.perf_counter()
    done = {"events": 0}

    def progress(events: int, _: int) -> None:
        done["events"] = events

    rebuild(name, container.env, progress)
    seconds = time.perf_counter() - started
    return {
        "projection": name,
        "events": done["events"],
        "seconds": round(seconds, 3),
        "events_per_s": round(done["events"] / seconds),
    }


def read_rate(container: Container) -> dict[str, Any]:
    """Baseline: reading and decoding every event as a rebuild does, applying nothing."""
    started = time.perf_counter()
    count = sum(len(items) for items in recorded_pages(container.datastore, after=0))
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": round(count / seconds)}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kontor-bench-")))
        settings = Settings(
            database_url=stack.enter_context(database(data_dir)),
            clickhouse_url=None,
            nats_url=stack.enter_context(nats_url(data_dir)),
            redis_url=None,
            data_dir=data_dir,
        )
        migrate(settings)
        container = build_container(settings, pool_size=4)
        stack.callback(container.close)
        with console.status(f"appending {args.events:,} events"):
            append_events(container, args.events, streams=1_000)
        with console.status("relay throughput"):
            relay = relay_throughput(settings, args.events)
        with console.status("raw publish baseline"):
            raw = raw_publish(settings, args.events)
        with console.status(f"relay latency at {args.rate:,.0f} events/s"):
            latency = relay_latency(container, settings, args.rate, args.latency_seconds)
        with console.status(f"audit state-as-of over {args.stream_events:,} events"):
            audit = audit_state_as_of(container, args.stream_events)
        with console.status("projection rebuild"):
            rebuilt = [rebuild_rate(container, name) for name in ("inventory_levels", "audit_log")]
        with console.status("read baseline"):
            reading = read_rate(container)
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "relay_throughput": relay | {"target_per_s": 10_000},
        "baseline_raw_publish_async": raw,
        "relay_latency": latency | {"target_p99_ms": 200},
        "audit_state_as_of": audit | {"target_ms": 100},
        "projection_rebuild": rebuilt,
        "baseline_read_and_decode": reading,
        "rebuild_target_per_s": 50_000,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    table = Table("figure", "value", "baseline (same run)", "target")
    table.add_row(
        "relay → JetStream",
        f"{relay['events_per_s']:,} events/s",
        f"raw publish_async {raw['events_per_s']:,}/s",
        ">= 10,000/s",
    )
    table.add_row(
        f"commit → published at {args.rate:,.0f}/s",
        f"p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms",
        "",
        "p99 < 200 ms",
    )
    table.add_row(
        f"state as of v{args.stream_events:,} / v-50 / v{args.stream_events // 2 + 500:,}",
        f"{audit['latest_ms']} / {audit['latest_minus_50_ms']} / {audit['halfway_ms']} ms",
        f"application load {audit['baseline_application_load_ms']} ms",
        "< 100 ms",
    )
    table.add_row(
        f"state as of v{args.stream_events:,}, no snapshots",
        f"{audit['latest_full_replay_no_snapshot_ms']} ms (replayed from v1)",
        "",
        "< 100 ms",
    )
    for item in rebuilt:
        table.add_row(
            f"rebuild {item['projection']}",
            f"{item['events_per_s']:,} events/s",
            f"read+decode {reading['events_per_s']:,}/s",
            ">= 50,000/s",
        )
    console.print(table)
    console.print(f"written to {args.output}")


if __name__ == "__main__":
    main()
