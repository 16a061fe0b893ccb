"""Rate limits per credential and per client address, counted in the shared cache."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from application.ports import Cache


@dataclass(frozen=True)
class Limits:
    per_key: int
    per_ip: int
    window_seconds: int


class RateLimiter:
    """Fixed windows counted in the shared cache, so every API replica sees the same count."""

    def __init__(self, cache: Cache, limits: Limits, prefix: str = "rl") -> None:
        self.cache = cache
        self.limits = limits
        self.prefix = prefix

    def retry_after(self, credential: str | None, address: str) -> int | None:
        """Counts one request; seconds to wait if it is over a limit, else None."""
        window = self.limits.window_seconds
        now = int(time.time())
        slot = now // window
        retry = window - now % window
        if self.cache.incr(f"{self.prefix}:ip:{address}:{slot}", window) > self.limits.per_ip:
            return retry
        if credential is not None:
            digest = hashlib.sha256(credential.encode()).hexdigest()[:32]
            if self.cache.incr(f"{self.prefix}:key:{digest}:{slot}", window) > self.limits.per_key:
                return retry
        return None
