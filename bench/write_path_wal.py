"""WAL bytes per event for each write path of bench/write_path.py, one statement at a time.

`uv run python -m bench.write_path_wal [--commands 2000]`. On a server whose WAL flushes are the
bottleneck (ADR 0047), these bytes set how many events per second each path can commit.
Measured with `EXPLAIN (ANALYZE, WAL)` per statement (nested statements included), so other
sessions on a shared server do not disturb it. Full-page images depend on when the last
checkpoint was, so the median over statements without one is reported beside the mean.
Results: bench/results/write_path_wal.json.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

from adapters.postgres.recorder import APPEND
from bench.write_path import RESULTS, STATE, STOCK_TABLE, console, prepare

WAL = re.compile(r"WAL: records=\d+(?: fpi=(\d+))? bytes=(\d+)")
PLACE_EVERY = 25  # commands per sequencing run


def wal_of(conn: psycopg.Connection[Any], statement: str, params: Any = ()) -> tuple[int, int]:
    """(bytes, full-page images) of WAL written by one statement."""
    plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, WAL) {statement}", params))  # type: ignore[arg-type]
    found = WAL.search(plan)
    assert found is not None, plan
    return int(found.group(2)), int(found.group(1) or 0)


def summary(samples: list[tuple[float, int]], events: int) -> dict[str, float]:
    clean = sorted(size for size, images in samples if images == 0)
    return {
        "median_bytes_per_event": round(clean[len(clean) // 2] / events, 1),
        "mean_bytes_per_event": round(sum(size for size, _ in samples) / len(samples) / events, 1),
    }


def measure(url: str, commands: int) -> list[dict[str, Any]]:
    stocks = [uuid4() for _ in range(64)]
    versions = dict.fromkeys(stocks, 0)
    appended, placed, plain, stock = [], [], [], []
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(commands):
            order, first, second = uuid4(), stocks[n % 64], stocks[(n + 1) % 64]
            versions[first] += 1
            versions[second] += 1
            events = ([order, order, first, second], [1, 2, versions[first], versions[second]])
            rows = (*events, ["bench"] * 4, [STATE] * 4)
            appended.append(wal_of(conn, APPEND, (*rows, *(None,) * 6, *[[]] * 5)))
            if n % PLACE_EVERY == PLACE_EVERY - 1:
                size, images = wal_of(conn, "SELECT kontor_place()")
                placed.append((size / PLACE_EVERY, images))
            plain.append(
                wal_of(
                    conn,
                    "INSERT INTO bench_plain (id, version, state) VALUES (%s, 1, %s)",
                    (uuid4(), STATE),
                )
            )
            stock.append(
                wal_of(
                    conn,
                    f"INSERT INTO {STOCK_TABLE} (originator_id, originator_version, topic, state) "
                    "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])",
                    rows,
                )
            )
    kontor_append, kontor_place = summary(appended, 4), summary(placed, 4)
    return [
        {"path": "plain_insert", **summary(plain, 1)},
        {"path": "stock", **summary(stock, 4)},
        {"path": "kontor_append", **kontor_append},
        {"path": "kontor_place", **kontor_place},
        {
            "path": "kontor",
            **{key: round(kontor_append[key] + kontor_place[key], 1) for key in kontor_append},
        },
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=RESULTS / "write_path_wal.json")
    args = parser.parse_args(argv)
    from tests.support.servers import fresh_database, postgres_server, scratch_dir

    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(stack.enter_context(scratch_dir())))
        url = stack.enter_context(
            fresh_database(server, f"kontor_bench_wal_{secrets.token_hex(4)}")
        )
        prepare(url)
        rows = measure(url, args.commands)
    for row in rows:
        console.print(row)
    args.output.write_text(json.dumps(rows, indent=2) + "\n")
    console.print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
