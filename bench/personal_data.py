"""What sealing personal data costs the event mapper (ADR 0035).

`uv run python -m bench.personal_data [--events 20000 --rounds 5]`. The same OrderPlaced events
are encoded (`encode_state`), decoded (`decode_event`: what projections and command handlers
read) and opened for hand-out (`opened_data`: what the relay, webhooks and audit send) in three
scenarios, interleaved per round:

- `plaintext` (baseline): events without a customer id, as written before ADR 0035.
- `sealed`: the same events with a customer id, so 7 personal fields are sealed with AES-GCM.
- `erased`: sealed events read after the customer's key was deleted.

Keys come from an in-process dict, as from the key cache after the first look-up: this
measures the mapper and the cipher, not PostgreSQL. The median round is reported. The machine
is shared with other engineers' test suites, so treat the figures as noisy. Writes
bench/results/personal_data.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from rich.console import Console
from rich.table import Table

from adapters.personal_data import PersonalDataSeal
from adapters.postgres.mapper import decode_event, encode_state, opened_data, use_personal_data
from application.ports import Metadata
from domain.order.events import Address, Customer, OrderLine, OrderPlaced
from domain.shared.money import Money

RESULTS = Path(__file__).parent / "results"
TENANT = uuid4()


def orders(count: int, *, with_customer: bool) -> list[OrderPlaced]:
    return [
        OrderPlaced(
            order_id=uuid4(),
            store="web",
            channel="web",
            external_id=None,
            currency="EUR",
            customer=Customer(f"customer{n}@example.com", f"Customer {n}"),
            shipping_address=Address(
                name=f"Customer {n}",
                line1=f"{n} Main Street",
                city="Berlin",
                postal_code="10117",
                country="DE",
                region="BE",
            ),
            lines=[OrderLine(1, "MUG", 2, Money(Decimal("9.90"), "EUR"))],
            placed_at=datetime.now(UTC),
            customer_id=UUID(int=n % 500 + 1) if with_customer else None,
        )
        for n in range(count)
    ]


def measure(events: list[OrderPlaced], keys: dict[tuple[UUID, UUID], bytes]) -> dict[str, float]:
    metadata = Metadata(
        tenant_id=TENANT, actor="bench", correlation_id=uuid4(), recorded_at=datetime.now(UTC)
    )
    started = time.perf_counter()
    states = [encode_state(event, metadata) for event in events]
    encoded = time.perf_counter() - started
    started = time.perf_counter()
    for state in states:
        decode_event("order.OrderPlaced", state)
    decoded = time.perf_counter() - started
    datas = [_data(state) for state in states]
    started = time.perf_counter()
    for data in datas:
        opened_data("order.OrderPlaced", data, TENANT)
    opened = time.perf_counter() - started
    n = len(events)
    return {
        "encode_per_s": round(n / encoded),
        "decode_per_s": round(n / decoded),
        "open_for_relay_per_s": round(n / opened),
        "stored_bytes_per_event": round(sum(map(len, states)) / n),
    }


class _Envelope(msgspec.Struct):
    data: msgspec.Raw


def _data(state: bytes) -> bytes:
    return bytes(msgspec.json.decode(state, type=_Envelope).data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS / "personal_data.json")
    args = parser.parse_args(argv)

    live = {(TENANT, UUID(int=n + 1)): os.urandom(32) for n in range(500)}
    keys: dict[tuple[UUID, UUID], bytes] = dict(live)
    use_personal_data(PersonalDataSeal(lambda t, c: keys.get((t, c))))
    plain, sealed = (
        orders(args.events, with_customer=False),
        orders(args.events, with_customer=True),
    )
    rounds: dict[str, list[dict[str, float]]] = {"plaintext": [], "sealed": [], "erased": []}
    for _ in range(args.rounds):
        keys.update(live)
        rounds["plaintext"].append(measure(plain, keys))
        rounds["sealed"].append(measure(sealed, keys))
        # Encoded while the keys exist, read after they are gone: what erasure leaves.
        metadata = Metadata(
            tenant_id=TENANT, actor="bench", correlation_id=uuid4(), recorded_at=datetime.now(UTC)
        )
        states = [encode_state(event, metadata) for event in sealed]
        keys.clear()
        started = time.perf_counter()
        for state in states:
            decode_event("order.OrderPlaced", state)
        rounds["erased"].append(
            {"decode_per_s": round(len(states) / (time.perf_counter() - started))}
        )

    def median(scenario: str) -> dict[str, Any]:
        found = rounds[scenario]
        return {key: statistics.median(r[key] for r in found) for key in found[0]}

    results = {name: median(name) for name in rounds}
    baseline = results["plaintext"]
    table = Table(
        title=f"OrderPlaced through the mapper, {args.events} events, median of {args.rounds}"
    )
    for column in ("scenario", "encode/s", "decode/s", "open for relay/s", "bytes/event"):
        table.add_column(column, justify="right")
    for name, r in results.items():
        table.add_row(
            name,
            str(r.get("encode_per_s", "")),
            str(r["decode_per_s"]),
            str(r.get("open_for_relay_per_s", "")),
            str(r.get("stored_bytes_per_event", "")),
        )
    Console().print(table)
    ratio = {
        key: round(results["sealed"][key] / baseline[key], 2)
        for key in ("encode_per_s", "decode_per_s", "open_for_relay_per_s")
    }
    Console().print(f"sealed / plaintext: {ratio}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "personal_data",
                "measured_at": datetime.now(UTC).isoformat(),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "events": args.events,
                "rounds": args.rounds,
                "note": "shared, busy machine: noisy figures; keys from an in-process dict",
                "baseline": "plaintext",
                "scenarios": results,
                "sealed_over_plaintext": ratio,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
