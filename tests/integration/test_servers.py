from __future__ import annotations

import asyncio

import nats
import psycopg

from adapters.embedded.clickhouse import clickhouse_client
from interfaces.config import Settings


def test_postgres_answers(settings: Settings) -> None:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT 1, current_database()").fetchone()
    assert row is not None
    assert row[0] == 1
    assert row[1].startswith("kontor_test_")


def test_nats_jetstream_accepts_a_stream_and_a_publish(settings: Settings, run_id: str) -> None:
    assert settings.nats_url is not None
    url = settings.nats_url
    stream = f"KONTOR_TEST_{run_id.upper()}"

    async def roundtrip() -> int:
        client = await nats.connect(url)
        try:
            js = client.jetstream()
            await js.add_stream(name=stream, subjects=[f"test.{run_id}.>"])
            try:
                ack = await js.publish(f"test.{run_id}.ping", b"ping")
                return ack.seq
            finally:
                await js.delete_stream(stream)
        finally:
            await client.close()

    assert asyncio.run(roundtrip()) == 1


def test_clickhouse_answers(settings: Settings) -> None:
    assert settings.clickhouse_url is not None
    client = clickhouse_client(settings.clickhouse_url)
    try:
        assert client.query("SELECT 1").result_rows == [(1,)]
    finally:
        client.close()
