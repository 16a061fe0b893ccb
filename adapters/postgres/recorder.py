"""The library's PostgreSQL application recorder, extended for Kontor.

- `load` reads many streams (each above a known version) in one round trip.
- `append` writes, in the events' own transaction, the catalog rows of reference aggregates and
  the first response of an idempotent request, holding the table lock only server-side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

APPEND = (
    "SELECT * FROM kontor_append(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], "
    "%s::uuid, %s::text, %s::text, %s::int, %s::bytea, %s::bigint, "
    "%s::uuid[], %s::text[], %s::text[], %s::bytea[], %s::bigint[])"
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

    def append(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: tuple[Any, ...] | None = None,
        catalog_rows: Sequence[tuple[Any, ...]] = (),
    ) -> list[int]:
        """Appends atomically in one round trip (see `kontor_append` in schema.py).

        Plain typed arrays rather than the library's array of a composite type: psycopg dumps
        those natively, where a composite array is dumped field by field in Python.
        """
        catalog = [list(column) for column in zip(*catalog_rows, strict=True)] or [[]] * 5
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                APPEND,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                    *(idempotency or (None,) * 6),
                    *catalog,
                ),
                prepare=True,
                binary=True,
            )
            return [row["kontor_append"] for row in curs.fetchall()]

    def load(self, after: Mapping[UUID, int]) -> list[StoredEvent]:
        if not after:
            return []
        ids = list(after)
        # Tuple rows: building a dict per row costs more than the query for long streams.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                self.select_many_statement,
                (ids, [after[i] for i in ids]),
                prepare=True,
                binary=True,
            )
            return [
                StoredEvent(
                    originator_id=stream_id, originator_version=version, topic=topic, state=state
                )
                for stream_id, version, topic, state in curs.fetchall()
            ]
