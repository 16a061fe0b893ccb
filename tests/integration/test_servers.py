from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import nats
import psycopg
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from adapters.embedded.clickhouse import clickhouse_client, shared_client
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


def test_the_shared_client_answers_a_thread_while_another_waits_on_a_slow_query(
    settings: Settings,
) -> None:
    assert settings.clickhouse_url is not None
    client = shared_client(settings.clickhouse_url)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.query, "SELECT sleep(1.5)")
        time.sleep(0.2)  # the slow query has started
        assert client.query("SELECT 42").result_rows == [(42,)]
        assert not slow.done()  # answered beside it, not after it
        slow.result()


def test_query_all_returns_each_result_in_the_order_asked_and_raises_a_failure(
    settings: Settings,
) -> None:
    assert settings.clickhouse_url is not None
    client = shared_client(settings.clickhouse_url)
    calls = [(f"SELECT {n}, sleep(0.{3 - n})", None) for n in range(3)]
    assert [r.result_rows[0][0] for r in client.query_all(calls)] == [0, 1, 2]
    with pytest.raises(DatabaseError, match="UNKNOWN_TABLE"):
        client.query_all([("SELECT 1", None), ("SELECT * FROM no_such_table", None)])
