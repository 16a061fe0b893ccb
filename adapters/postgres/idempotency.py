from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.ports import IdempotentWrite, StoredResponse


class PostgresIdempotencyStore:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def find(self, tenant_id: UUID, key: str) -> StoredResponse | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT request_hash, status, body, version FROM idempotency_keys "
                "WHERE tenant_id = %s AND key = %s",
                (tenant_id, key),
                prepare=True,
            )
            row = curs.fetchone()
        if row is None:
            return None
        return StoredResponse(
            row["request_hash"], row["status"], bytes(row["body"]), row["version"]
        )

    def remember(self, write: IdempotentWrite) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO idempotency_keys "
                "(tenant_id, key, request_hash, status, body, version) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    write.tenant_id,
                    write.key,
                    write.response.request_hash,
                    write.response.status,
                    write.response.body,
                    write.response.version,
                ),
            )
