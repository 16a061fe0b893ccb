from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore


class PostgresSnapshotStore:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def get_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, tuple[int, bytes]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT stream_id, version, state FROM snapshots WHERE stream_id = ANY(%s)",
                (list(stream_ids),),
                prepare=True,
            )
            return {r["stream_id"]: (r["version"], bytes(r["state"])) for r in curs.fetchall()}

    def put(self, stream_id: UUID, version: int, state: bytes) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO snapshots (stream_id, version, state) VALUES (%s, %s, %s) "
                "ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, "
                "state = EXCLUDED.state WHERE snapshots.version < EXCLUDED.version",
                (stream_id, version, state),
            )
