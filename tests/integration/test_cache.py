"""The shared cache port: the in-process store always, Redis when one is reachable."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import pytest
import redis

from adapters.cache import MemoryCache, RedisCache
from application.ports import Cache


def _redis_url() -> str | None:
    url = os.environ.get("KONTOR_REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return None
    return url


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis reachable (set KONTOR_REDIS_URL)")
    yield RedisCache(url, namespace=f"kontor-test-{secrets.token_hex(4)}")


def test_a_stored_value_is_read_back(cache: Cache) -> None:
    cache.set("k", b"value", ttl_seconds=60)
    assert cache.get("k") == b"value"


def test_an_unknown_key_reads_as_none(cache: Cache) -> None:
    assert cache.get("missing") is None


def test_a_deleted_key_is_gone(cache: Cache) -> None:
    cache.set("k", b"value", ttl_seconds=60)
    cache.delete("k")
    assert cache.get("k") is None


def test_a_value_expires_after_its_ttl(cache: Cache) -> None:
    cache.set("k", b"value", ttl_seconds=1)
    time.sleep(1.2)
    assert cache.get("k") is None


def test_a_counter_counts_and_expires_from_its_first_increment(cache: Cache) -> None:
    assert [cache.incr("n", ttl_seconds=1) for _ in range(3)] == [1, 2, 3]
    time.sleep(1.2)
    assert cache.incr("n", ttl_seconds=1) == 1
