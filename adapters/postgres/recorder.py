"""The library's PostgreSQL application recorder, extended for Kontor.

- `load` reads many streams (each above a known version) in one round trip.
- Writes made in the same transaction as the events: the catalog rows of reference aggregates
  and the first response of an idempotent request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

INSERT_IDEMPOTENCY = (
    "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) "
    "VALUES (%s, %s, %s, %s, %s)"
)
UPSERT_CATALOG = (
    "INSERT INTO catalog (tenant_id, kind, code, state, version) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (tenant_id, kind, code) DO UPDATE "
    "SET state = EXCLUDED.state, version = EXCLUDED.version"
)


class KontorRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # LATERAL makes the planner probe the primary key once per stream; a plain join on
        # unnest() is costed as a hash join over a scan of the whole table once it grows.
        self.select_many_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS w(id, after) "
            "CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} t "
            "WHERE t.originator_id = w.id AND t.originator_version > w.after "
            "ORDER BY t.originator_version) e"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    def load(self, after: Mapping[UUID, int]) -> list[StoredEvent]:
        if not after:
            return []
        ids = list(after)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_many_statement, (ids, [after[i] for i in ids]), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        idempotency: tuple[Any, ...] | None = kwargs.get("idempotency")
        if idempotency is not None:
            curs.execute(INSERT_IDEMPOTENCY, idempotency, prepare=True)
        catalog_rows: Sequence[tuple[Any, ...]] = kwargs.get("catalog_rows", ())
        for row in catalog_rows:
            curs.execute(UPSERT_CATALOG, row, prepare=True)
