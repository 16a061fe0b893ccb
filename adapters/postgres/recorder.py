"""The library's PostgreSQL application recorder, extended for Kontor.

- `load` reads many streams (each above a known version) in one round trip.
- `append` writes, in the events' own transaction, the catalog rows of reference aggregates and
  the first response of an idempotent request, without a table lock; the events get their global
  positions from the sequencer after they commit (ADRs 0032 and 0047): from this writer, or from
  the sequencing run in progress when it returns.
- The library's own insert path (`insert_events`) takes no lock either, and waits for its
  positions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

APPEND = (
    "SELECT kontor_append(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], "
    "%s::uuid, %s::text, %s::text, %s::int, %s::bytea, %s::bigint, "
    "%s::uuid[], %s::text[], %s::text[], %s::bytea[], %s::bigint[])"
)
SEQUENCE_ALL = "CALL kontor_sequence_all()"
POSITIONS = (
    "SELECT e.notification_id FROM unnest(%s::uuid[], %s::bigint[]) WITH ORDINALITY AS w(id, v, n)"
    " JOIN kontor_events e ON e.originator_id = w.id AND e.originator_version = w.v ORDER BY w.n"
)
APPEND_SEQUENCED = (
    "CALL kontor_append_sequenced(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], "
    "%s::uuid, %s::text, %s::text, %s::int, %s::bytea, %s::bigint, "
    "%s::uuid[], %s::text[], %s::text[], %s::bytea[], %s::bigint[], NULL)"
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
    ) -> None:
        """Appends atomically (`kontor_append` in schema.py), commits, then sequences whatever
        is pending unless a sequencing run is in progress (which then places these events too),
        in one round trip.

        Plain typed arrays rather than the library's array of a composite type: psycopg dumps
        those natively, where a composite array is dumped field by field in Python.
        """
        catalog = [list(column) for column in zip(*catalog_rows, strict=True)] or [[]] * 5
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # Autocommit, so that the procedure may commit the append before sequencing it.
            curs.execute(
                APPEND_SEQUENCED,
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

    def sequence(self, stored_events: Sequence[StoredEvent] = ()) -> list[int]:
        """Waits until every event committed before the call has its position; returns those
        of `stored_events`. Without events it only sweeps up appends whose writer stopped
        between commit and sequencing."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SEQUENCE_ALL)
            if not stored_events:
                return []
            curs.execute(
                POSITIONS,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                ),
                binary=True,
            )
            return [row["notification_id"] for row in curs.fetchall()]

    def _lock_table(self, curs: Any) -> None:
        """No table lock: order comes from the sequencer."""

    def _notify_channel(self, curs: Any) -> None:
        """The sequencer notifies, once positions are visible."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        super().insert_events(stored_events, **kwargs)
        return self.sequence(stored_events)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        if start is None:  # "from the beginning" must not include unsequenced rows
            start, inclusive_of_start = 0, False
        return super().select_notifications(
            start, limit, stop, topics, inclusive_of_start=inclusive_of_start
        )

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
