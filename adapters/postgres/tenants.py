from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.access import Role
from application.tenants import KeyInfo, StoredKey


def roles_of(values: list[str]) -> frozenset[Role]:
    return frozenset(Role(value) for value in values)


def stores_of(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def sorted_or_none(values: frozenset[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


class PostgresTenantStore:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def create_tenant(self, tenant_id: UUID, name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tenant_id, name))

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
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO api_keys (id, tenant_id, name, secret_hash, roles, stores, created_by)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    key_id,
                    tenant_id,
                    name,
                    secret_hash,
                    sorted(roles),
                    sorted_or_none(stores),
                    created_by,
                ),
            )

    def find_key(self, key_id: UUID) -> StoredKey | None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE api_keys SET last_used_at = now() WHERE id = %s "
                "RETURNING tenant_id, secret_hash, revoked_at IS NOT NULL AS revoked, "
                "roles, stores",
                (key_id,),
            )
            row = curs.fetchone()
        if row is None:
            return None
        return StoredKey(
            row["tenant_id"],
            row["secret_hash"],
            row["revoked"],
            roles_of(row["roles"]),
            stores_of(row["stores"]),
        )

    def list_keys(self, tenant_id: UUID) -> list[KeyInfo]:
        with self.datastore.transaction() as curs:
            curs.execute(
                "SELECT id, name, roles, stores, created_at, created_by, last_used_at, revoked_at "
                "FROM api_keys WHERE tenant_id = %s ORDER BY created_at, id",
                (tenant_id,),
            )
            rows: list[dict[str, Any]] = curs.fetchall()
        return [KeyInfo(**row) for row in rows]

    def revoke_key(self, tenant_id: UUID, key_id: UUID, actor: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), "
                "revoked_by = coalesce(revoked_by, %s) WHERE id = %s AND tenant_id = %s",
                (actor, key_id, tenant_id),
            )
            return bool(curs.rowcount)

    def tenant_by_name(self, name: str) -> UUID | None:
        with self.datastore.transaction() as curs:
            curs.execute(
                "SELECT id FROM tenants WHERE name = %s ORDER BY created_at LIMIT 1", (name,)
            )
            row = curs.fetchone()
        return None if row is None else row["id"]

    def log(
        self,
        tenant_id: UUID,
        actor: str,
        action: str,
        subject: str,
        detail: str | None = None,
        address: str | None = None,
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO security_log (tenant_id, actor, action, subject, detail, address) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (tenant_id, actor, action, subject, detail, address),
            )
