from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

HISTORY_EVERY = 1_000

# The first snapshot written in each block of 1,000 versions is also kept in the history.
KEEP_IN_HISTORY = """
INSERT INTO snapshot_history (stream_id, version, state)
SELECT %(id)s, %(version)s, %(state)s WHERE NOT EXISTS (
    SELECT 1 FROM snapshot_history WHERE stream_id = %(id)s
    AND version >= %(version)s / %(every)s * %(every)s)
ON CONFLICT DO NOTHING
"""

AT_OR_BELOW = """
SELECT version, state FROM (
    SELECT version, state FROM snapshots WHERE stream_id = %(id)s AND version <= %(version)s
    UNION ALL
    (SELECT version, state FROM snapshot_history WHERE stream_id = %(id)s
     AND version <= %(version)s ORDER BY version DESC LIMIT 1)
) s ORDER BY version DESC LIMIT 1
"""


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
            curs.execute(
                KEEP_IN_HISTORY,
                {"id": stream_id, "version": version, "state": state, "every": HISTORY_EVERY},
            )

    def get_at_or_below(self, stream_id: UUID, version: int) -> tuple[int, bytes] | None:
        """The newest snapshot, current or kept, taken at or below `version`."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(AT_OR_BELOW, {"id": stream_id, "version": version})
            row = curs.fetchone()
        return None if row is None else (row["version"], bytes(row["state"]))

    def history(self) -> Iterator[tuple[UUID, int, bytes]]:
        """Every kept snapshot (for `kontor audit replay` to check)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT stream_id, version, state FROM snapshot_history")
            for row in curs:
                yield row["stream_id"], row["version"], bytes(row["state"])
