"""The shared cache port: Redis in production, an in-process store in the embedded default."""

from __future__ import annotations

import threading
import time

import redis


class MemoryCache:
    in_process = True

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return None
            return value

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        with self._lock:
            if len(self._data) >= self._max:
                self._data.clear()
            self._data[key] = (time.monotonic() + ttl_seconds, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str, ttl_seconds: int) -> int:
        with self._lock:
            now = time.monotonic()
            expires, value = self._data.get(key, (now + ttl_seconds, b"0"))
            if expires < now:
                expires, value = now + ttl_seconds, b"0"
            count = int(value) + 1
            self._data[key] = (expires, str(count).encode())
            return count


class RedisCache:
    in_process = False

    def __init__(self, url: str, namespace: str = "kontor") -> None:
        self._redis = redis.Redis.from_url(url)
        self._ns = namespace

    def get(self, key: str) -> bytes | None:
        value = self._redis.get(f"{self._ns}:{key}")
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._redis.set(f"{self._ns}:{key}", value, ex=ttl_seconds)

    def delete(self, key: str) -> None:
        self._redis.delete(f"{self._ns}:{key}")

    def incr(self, key: str, ttl_seconds: int) -> int:
        name = f"{self._ns}:{key}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, ttl_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def ping(self) -> bool:
        return bool(self._redis.ping())
