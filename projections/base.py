"""Read models built by the eventsourcing library's ProjectionRunner.

Each view writes its rows and its tracking position in one transaction, so every event is
applied exactly once, and a view can be dropped and rebuilt from position zero.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from application.ports import Recorded


class View(PostgresTrackingRecorder):
    """A tracking recorder that also owns the read-model tables it writes."""

    tables: ClassVar[tuple[str, ...]] = ()
    ddl: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.extend(SQL(statement) for statement in self.ddl)  # type: ignore[arg-type]

    def apply(self, recorded: Recorded, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self.write(curs, recorded)
            self._insert_tracking(curs, tracking)

    @abstractmethod
    def write(self, curs: Cursor[DictRow], recorded: Recorded) -> None: ...

    def reset(self) -> None:
        """Empties the read model and its position, for a rebuild from zero."""
        with self.datastore.transaction(commit=True) as curs:
            for table in self.tables:
                curs.execute(f"TRUNCATE {table}")  # type: ignore[arg-type]
            curs.execute(
                f"DELETE FROM {self.tracking_table_name} "  # type: ignore[arg-type]
                "WHERE application_name <> '__migration__'"
            )


class ViewProjection(Projection[View]):
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)
