"""Customers' identities and data keys (ADR 0035).

A customer is known by a random id, found again by a digest of their normalised email while
they are not erased. Their data key (32 random bytes) is stored wrapped by the keyring. Erasing
deletes the key and the email digest: the sealed fields in the events can no longer be opened,
and the email no longer leads to the id.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from uuid import UUID, uuid4

from psycopg_pool import ConnectionPool

from adapters.keyring import Keyring

CUSTOMER_TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS customers (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        email_digest bytea,
        data_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS customers_email ON customers (tenant_id, email_digest) "
    "WHERE email_digest IS NOT NULL",
)


def email_digest(tenant_id: UUID, email: str) -> bytes:
    return hashlib.sha256(tenant_id.bytes + email.strip().lower().encode()).digest()


def _key_context(tenant_id: UUID, customer_id: UUID) -> str:
    return f"customers.data_key:{tenant_id}:{customer_id}"


class PostgresCustomerKeys:
    """Implements the CustomerDirectory port, and the key lookup the event mapper seals and
    opens personal data with.

    Keys are cached in process for `ttl` seconds: an erasure is immediate in the process that
    erases (it drops its entry) and reaches other processes within `ttl`.
    """

    def __init__(self, pool: ConnectionPool, keyring: Keyring, *, ttl: float = 5.0) -> None:
        self.pool = pool
        self.keyring = keyring
        self.ttl = ttl
        self._cache: dict[tuple[UUID, UUID], tuple[bytes | None, float]] = {}
        self._lock = threading.Lock()

    def identify(self, tenant_id: UUID, email: str) -> UUID:
        """The id of the customer with this email, made (with a new key) on first sight."""
        key = os.urandom(32)
        new_id = uuid4()
        wrapped = self.keyring.encrypt(key.hex(), _key_context(tenant_id, new_id))
        with self.pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO customers (tenant_id, id, email_digest, data_key) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (tenant_id, email_digest) "
                "WHERE email_digest IS NOT NULL DO UPDATE SET email_digest = EXCLUDED.email_digest "
                "RETURNING id, data_key",
                (tenant_id, new_id, email_digest(tenant_id, email), wrapped),
            ).fetchone()
        assert row is not None
        customer_id: UUID = row[0]
        self._remember(tenant_id, customer_id, self._unwrap(tenant_id, customer_id, row[1]))
        return customer_id

    def find(self, tenant_id: UUID, email: str) -> UUID | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT id FROM customers WHERE tenant_id = %s AND email_digest = %s",
                (tenant_id, email_digest(tenant_id, email)),
            ).fetchone()
        return row[0] if row else None

    def known(self, tenant_id: UUID, customer_id: UUID) -> bool:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM customers WHERE tenant_id = %s AND id = %s",
                (tenant_id, customer_id),
            ).fetchone()
        return row is not None

    def shred(self, tenant_id: UUID, customer_id: UUID) -> None:
        """Deletes the key and the email digest for good (idempotent), with what else names the
        customer outside the events: their tax exemption (kept by email) and stored responses
        to retried requests that show their orders."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "DELETE FROM tax_exemptions x USING customers c "
                "WHERE c.tenant_id = %s AND c.id = %s AND x.tenant_id = c.tenant_id "
                "AND c.email_digest = "
                "sha256(uuid_send(x.tenant_id) || convert_to(x.email, 'UTF8'))",
                (tenant_id, customer_id),
            )
            conn.execute(
                "DELETE FROM idempotency_keys WHERE tenant_id = %s "
                "AND position(convert_to(%s, 'UTF8') in body) > 0",
                (tenant_id, str(customer_id)),
            )
            conn.execute(
                "UPDATE customers SET data_key = NULL, email_digest = NULL, "
                "erased_at = coalesce(erased_at, now()) WHERE tenant_id = %s AND id = %s",
                (tenant_id, customer_id),
            )
        self._remember(tenant_id, customer_id, None)

    def key(self, tenant_id: UUID, customer_id: UUID) -> bytes | None:
        """The customer's data key; None once erased (or for an id this tenant never had)."""
        cached = self._cache.get((tenant_id, customer_id))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT data_key FROM customers WHERE tenant_id = %s AND id = %s",
                (tenant_id, customer_id),
            ).fetchone()
        key = self._unwrap(tenant_id, customer_id, row[0] if row else None)
        self._remember(tenant_id, customer_id, key)
        return key

    def _unwrap(self, tenant_id: UUID, customer_id: UUID, wrapped: str | None) -> bytes | None:
        if wrapped is None:
            return None
        return bytes.fromhex(self.keyring.decrypt(wrapped, _key_context(tenant_id, customer_id)))

    def _remember(self, tenant_id: UUID, customer_id: UUID, key: bytes | None) -> None:
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[(tenant_id, customer_id)] = (key, time.monotonic() + self.ttl)
