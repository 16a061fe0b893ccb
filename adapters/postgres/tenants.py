from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.tenants import StoredKey


class PostgresTenantStore:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def create_tenant(self, tenant_id: UUID, name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tenant_id, name))

    def add_key(self, key_id: UUID, tenant_id: UUID, name: str, secret_hash: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO api_keys (id, tenant_id, name, secret_hash) VALUES (%s, %s, %s, %s)",
                (key_id, tenant_id, name, secret_hash),
            )

    def find_key(self, key_id: UUID) -> StoredKey | None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE api_keys SET last_used_at = now() WHERE id = %s "
                "RETURNING tenant_id, secret_hash, revoked_at IS NOT NULL AS revoked",
                (key_id,),
            )
            row = curs.fetchone()
        if row is None:
            return None
        return StoredKey(row["tenant_id"], row["secret_hash"], row["revoked"])

    def tenant_by_name(self, name: str) -> UUID | None:
        with self.datastore.transaction() as curs:
            curs.execute(
                "SELECT id FROM tenants WHERE name = %s ORDER BY created_at LIMIT 1", (name,)
            )
            row = curs.fetchone()
        return None if row is None else row["id"]
