"""Tenants (merchant accounts) and their API keys.

A key reads `kontor_<key id>_<secret>`; only an argon2id hash of the secret is stored. Verifying
argon2 costs tens of milliseconds by design, so a successful verification is remembered in the
shared cache for a few minutes, under the key's id: revoking deletes that entry, so a revoked key
stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4

import msgspec

from application.access import Principal, Role
from application.ports import Cache

KEY_PREFIX = "kontor"
VERIFIED_TTL_SECONDS = 300

__all__ = ["Principal", "Tenants"]


class NewApiKey(msgspec.Struct, frozen=True):
    tenant_id: UUID
    key_id: UUID
    api_key: str


class StoredKey(msgspec.Struct, frozen=True):
    tenant_id: UUID
    secret_hash: str
    revoked: bool
    roles: frozenset[Role]
    stores: frozenset[str] | None


class KeyInfo(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    roles: list[Role]
    stores: list[str] | None
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TenantStore(Protocol):
    def create_tenant(self, tenant_id: UUID, name: str) -> None: ...

    def add_key(
        self,
        key_id: UUID,
        tenant_id: UUID,
        name: str,
        secret_hash: str,
        *,
        roles: frozenset[Role],
        stores: frozenset[str] | None,
        created_by: str,
    ) -> None: ...

    def find_key(self, key_id: UUID) -> StoredKey | None:
        """The key, recording it as used now."""
        ...

    def list_keys(self, tenant_id: UUID) -> list[KeyInfo]: ...

    def revoke_key(self, tenant_id: UUID, key_id: UUID, actor: str) -> bool:
        """False when the tenant has no such key (revoking twice is fine)."""
        ...

    def tenant_by_name(self, name: str) -> UUID | None: ...

    def log(
        self,
        tenant_id: UUID,
        actor: str,
        action: str,
        subject: str,
        detail: str | None = None,
        address: str | None = None,
    ) -> None:
        """Appends to the security log: who did what to which user, key or setting, from
        which client address."""
        ...


class SecretHasher(Protocol):
    def hash(self, secret: str) -> str: ...

    def verify(self, secret_hash: str, secret: str) -> bool: ...


class _Verified(msgspec.Struct, frozen=True):
    digest: str
    principal: Principal


class Tenants:
    def __init__(self, store: TenantStore, hasher: SecretHasher, cache: Cache) -> None:
        self.store = store
        self.hasher = hasher
        self.cache = cache

    def create(self, name: str) -> NewApiKey:
        """A tenant and its first key, with the owner role."""
        tenant_id = uuid4()
        self.store.create_tenant(tenant_id, name)
        return self.issue_key(
            tenant_id, "default", roles=frozenset({Role.OWNER}), actor="system:cli"
        )

    def issue_key(
        self,
        tenant_id: UUID,
        name: str,
        *,
        roles: frozenset[Role],
        stores: frozenset[str] | None = None,
        actor: str,
        address: str | None = None,
    ) -> NewApiKey:
        key_id = uuid4()
        secret = secrets.token_urlsafe(32)
        self.store.add_key(
            key_id,
            tenant_id,
            name,
            self.hasher.hash(secret),
            roles=roles,
            stores=stores,
            created_by=actor,
        )
        self.store.log(tenant_id, actor, "api_key.created", f"api_key:{key_id}", address=address)
        return NewApiKey(tenant_id, key_id, f"{KEY_PREFIX}_{key_id.hex}_{secret}")

    def revoke_key(
        self, tenant_id: UUID, key_id: UUID, actor: str, address: str | None = None
    ) -> bool:
        if not self.store.revoke_key(tenant_id, key_id, actor):
            return False
        self.cache.delete(_cache_key(key_id))
        self.store.log(tenant_id, actor, "api_key.revoked", f"api_key:{key_id}", address=address)
        return True

    def recently_verified(self, api_key: str) -> Principal | None:
        """The principal of a key verified in the last few minutes, from the cache alone."""
        parsed = _parse(api_key)
        if parsed is None:
            return None
        cached = self.cache.get(_cache_key(parsed[0]))
        if cached is None:
            return None
        verified = msgspec.json.decode(cached, type=_Verified)
        if not hmac.compare_digest(verified.digest, _digest(api_key)):
            return None
        return verified.principal

    def authenticate(self, api_key: str) -> Principal | None:
        cached = self.recently_verified(api_key)
        if cached is not None:
            return cached
        parsed = _parse(api_key)
        if parsed is None:
            return None
        key_id, secret = parsed
        stored = self.store.find_key(key_id)
        if stored is None or stored.revoked or not self.hasher.verify(stored.secret_hash, secret):
            return None
        principal = Principal(
            tenant_id=stored.tenant_id,
            actor=f"api_key:{key_id}",
            roles=stored.roles,
            stores=stored.stores,
        )
        entry = _Verified(_digest(api_key), principal)
        self.cache.set(_cache_key(key_id), msgspec.json.encode(entry), VERIFIED_TTL_SECONDS)
        return principal


def _parse(api_key: str) -> tuple[UUID, str] | None:
    prefix, _, rest = api_key.partition("_")
    key_hex, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not secret:
        return None
    try:
        return UUID(hex=key_hex), secret
    except ValueError:
        return None


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _cache_key(key_id: UUID) -> str:
    return f"apikey:{key_id}"
