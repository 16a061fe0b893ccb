"""Dashboard sessions, held server-side in the shared cache.

The cookie carries a random token; the cache holds the session under a SHA-256 of it, so a cache
dump reveals no usable cookie. A session ends after `idle_seconds` without a request, or
`absolute_seconds` after sign-in whatever happens; every sign-in starts a new session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from uuid import UUID

import msgspec

from application.access import Principal, Role
from application.ports import Cache


class SessionPolicy(msgspec.Struct, frozen=True):
    idle_seconds: int = 30 * 60
    absolute_seconds: int = 12 * 60 * 60
    touch_every_seconds: int = 60
    """Extending the idle deadline is a cache write: at most once a minute per session."""


class Session(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    user_id: UUID
    roles: frozenset[Role]
    stores: frozenset[str] | None
    enrolling: bool
    csrf_token: str
    started_at: float
    seen_at: float

    def principal(self) -> Principal:
        return Principal(
            tenant_id=self.tenant_id,
            actor=f"user:{self.user_id}",
            roles=self.roles,
            stores=self.stores,
            enrolling=self.enrolling,
        )


class Sessions:
    def __init__(
        self,
        cache: Cache,
        policy: SessionPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.policy = policy or SessionPolicy()
        self.clock = clock

    def start(
        self,
        tenant_id: UUID,
        user_id: UUID,
        roles: frozenset[Role],
        stores: frozenset[str] | None,
        *,
        enrolling: bool = False,
        replacing: str | None = None,
    ) -> tuple[str, Session]:
        """A new session with a new token; the one it replaces (if any) ends."""
        if replacing:
            self.end(replacing)
        now = self.clock()
        token = secrets.token_urlsafe(32)
        session = Session(
            tenant_id=tenant_id,
            user_id=user_id,
            roles=roles,
            stores=stores,
            enrolling=enrolling,
            csrf_token=secrets.token_urlsafe(32),
            started_at=now,
            seen_at=now,
        )
        self._save(_key(token), session)
        # Read-modify-write: two sign-ins of one user in the same instant may drop one entry,
        # whose session then outlives an `end_all` until its own timeout.
        known = [key for key in self._index(user_id) if self.cache.get(key) is not None]
        self.cache.set(
            f"user_sessions:{user_id}",
            msgspec.json.encode([*known, _key(token)]),
            self.policy.absolute_seconds,
        )
        return token, session

    def find(self, token: str) -> Session | None:
        key = _key(token)
        raw = self.cache.get(key)
        if raw is None:
            return None
        session = msgspec.json.decode(raw, type=Session)
        now = self.clock()
        idle = now - session.seen_at > self.policy.idle_seconds
        if idle or now - session.started_at > self.policy.absolute_seconds:
            self.cache.delete(key)
            return None
        if now - session.seen_at >= self.policy.touch_every_seconds:
            session = msgspec.structs.replace(session, seen_at=now)
            self._save(key, session)
        return session

    def end(self, token: str) -> None:
        self.cache.delete(_key(token))

    def end_all(self, user_id: UUID) -> None:
        """Signs the user out everywhere (password reset, deactivation, role change)."""
        for key in self._index(user_id):
            self.cache.delete(key)
        self.cache.delete(f"user_sessions:{user_id}")

    def _index(self, user_id: UUID) -> list[str]:
        raw = self.cache.get(f"user_sessions:{user_id}")
        return [] if raw is None else msgspec.json.decode(raw, type=list[str])

    def _save(self, key: str, session: Session) -> None:
        remaining = self.policy.absolute_seconds - (session.seen_at - session.started_at)
        ttl = max(1, int(min(self.policy.idle_seconds, remaining)))
        self.cache.set(key, msgspec.json.encode(session), ttl)


def _key(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()
