"""Tenants (merchant accounts) and their API keys.

A key reads `kontor_<key id>_<secret>`; only an argon2id hash of the secret is stored. Verifying
argon2 costs tens of milliseconds by design, so a successful verification is remembered in the
shared cache under a SHA-256 of the whole key for a few minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol
from uuid import UUID, uuid4

import msgspec

from application.ports import Cache

KEY_PREFIX = "kontor"
VERIFIED_TTL_SECONDS = 300


class Principal(msgspec.Struct, frozen=True):
    tenant_id: UUID
    key_id: UUID

    @property
    def actor(self) -> str:
        return f"api_key:{self.key_id}"


class NewApiKey(msgspec.Struct, frozen=True):
    tenant_id: UUID
    key_id: UUID
    api_key: str


class StoredKey(msgspec.Struct, frozen=True):
    tenant_id: UUID
    secret_hash: str
    revoked: bool


class TenantStore(Protocol):
    def create_tenant(self, tenant_id: UUID, name: str) -> None: ...

    def add_key(self, key_id: UUID, tenant_id: UUID, name: str, secret_hash: str) -> None: ...

    def find_key(self, key_id: UUID) -> StoredKey | None: ...

    def tenant_by_name(self, name: str) -> UUID | None: ...


class SecretHasher(Protocol):
    def hash(self, secret: str) -> str: ...

    def verify(self, secret_hash: str, secret: str) -> bool: ...


class Tenants:
    def __init__(self, store: TenantStore, hasher: SecretHasher, cache: Cache) -> None:
        self.store = store
        self.hasher = hasher
        self.cache = cache

    def create(self, name: str) -> NewApiKey:
        tenant_id = uuid4()
        self.store.create_tenant(tenant_id, name)
        return self.issue_key(tenant_id, "default")

    def issue_key(self, tenant_id: UUID, name: str) -> NewApiKey:
        key_id = uuid4()
        secret = secrets.token_urlsafe(32)
        self.store.add_key(key_id, tenant_id, name, self.hasher.hash(secret))
        return NewApiKey(tenant_id, key_id, f"{KEY_PREFIX}_{key_id.hex}_{secret}")

    def recently_verified(self, api_key: str) -> Principal | None:
        """The principal of a key verified in the last few minutes, from the cache alone."""
        cached = self.cache.get(_cache_key(api_key))
        return None if cached is None else msgspec.json.decode(cached, type=Principal)

    def authenticate(self, api_key: str) -> Principal | None:
        cached = self.recently_verified(api_key)
        if cached is not None:
            return cached
        prefix, _, rest = api_key.partition("_")
        key_hex, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not secret:
            return None
        try:
            key_id = UUID(hex=key_hex)
        except ValueError:
            return None
        stored = self.store.find_key(key_id)
        if stored is None or stored.revoked or not self.hasher.verify(stored.secret_hash, secret):
            return None
        principal = Principal(stored.tenant_id, key_id)
        self.cache.set(_cache_key(api_key), msgspec.json.encode(principal), VERIFIED_TTL_SECONDS)
        return principal


def _cache_key(api_key: str) -> str:
    return "auth:" + hashlib.sha256(api_key.encode()).hexdigest()
