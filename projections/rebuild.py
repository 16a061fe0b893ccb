"""Rebuilding a read model beside the live one, then swapping it in (ADR 0021).

The new model is built in a schema of its own (`rebuild_<name>`): its connections put that
schema first on the search path, so the view's own unqualified SQL creates and fills new
tables there while readers keep reading the old ones. Once it has caught up, one transaction
locks the live tables, applies the last events, and moves the new tables and tracking row into
place: readers see the old model or the whole new one, never a half-built one. Tables a view
reads but does not own (the audit anchor chain) stay where they are and are shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection
from psycopg.sql import SQL, Identifier

from adapters.postgres.event_store import APPLICATION_NAME, KontorEvents
from adapters.postgres.history import recorded_pages
from projections.base import View, ViewProjection
from projections.runner import PROJECTIONS, ProjectionStatus, status


class _SearchPathDatastore(PostgresDatastore):
    """Connections resolve unqualified names in `schema` first, then in public."""

    def after_connect_func(self) -> Callable[[Connection[Any]], None]:
        base = super().after_connect_func()
        statement = SQL("SET search_path TO {}, public").format(Identifier(self.schema))

        def after_connect(conn: Connection[Any]) -> None:
            base(conn)
            conn.execute(statement)

        return after_connect


def _datastore(env: dict[str, str], schema: str) -> PostgresDatastore:
    return _SearchPathDatastore(
        env["POSTGRES_DBNAME"],
        env["POSTGRES_HOST"],
        env["POSTGRES_PORT"],
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        pool_size=2,
        schema=schema,
    )


def rebuild(
    name: str,
    env: dict[str, str],
    progress: Callable[[int, int], None] | None = None,
    *,
    page: int = 5_000,
) -> ProjectionStatus:
    """Builds `name` from position zero in a new schema, then swaps it in. Stop the model's live
    projector first: it would keep writing to the tables it had open."""
    projection_class, view_class = PROJECTIONS[name]
    shadow = f"rebuild_{name}"
    events = KontorEvents(env=env)
    datastore = events.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as curs:
        curs.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(shadow)))
        curs.execute(SQL("CREATE SCHEMA {0}").format(Identifier(shadow)))
    view = view_class(datastore=_datastore(env, shadow), tracking_table_name=f"{name}_tracking")
    try:
        # Secondary indexes are built once at the end, not maintained row by row while loading.
        indexes = [st for st in view_class.ddl if _is_index(st)]
        view.sql_create_statements = [
            st for st in view.sql_create_statements if not _is_index(st.as_string())
        ]
        view.create_table()
        backlog = status(datastore, name).lag + 1  # of the live model: a fair estimate
        done = _catch_up(datastore, projection_class, view, page, progress, backlog)
        with view.datastore.transaction(commit=True) as curs:
            for statement in indexes:
                curs.execute(statement)  # type: ignore[arg-type]
        with datastore.transaction(commit=True) as curs:
            live = [*view.tables, f"{name}_tracking"]
            curs.execute(
                SQL("LOCK TABLE {0} IN ACCESS EXCLUSIVE MODE").format(
                    SQL(", ").join(Identifier("public", table) for table in live)
                )
            )
            # Under the lock no live writer commits: catch up the last events, then swap.
            _catch_up(datastore, projection_class, view, page, progress, backlog, done)
            for table in live:
                curs.execute(SQL("DROP TABLE {0}").format(Identifier("public", table)))
                curs.execute(
                    SQL("ALTER TABLE {0} SET SCHEMA public").format(Identifier(shadow, table))
                )
            curs.execute(SQL("DROP SCHEMA {0}").format(Identifier(shadow)))
        return status(datastore, name)
    finally:
        view.datastore.close()
        events.close()


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


def _catch_up(
    datastore: Any,
    projection_class: type[ViewProjection],
    view: View,
    page: int,
    progress: Callable[[int, int], None] | None,
    backlog: int,
    done: int = 0,
) -> int:
    """Applies every event after the view's position, one transaction per page."""
    after = view.max_tracking_id(APPLICATION_NAME) or 0
    topics = projection_class.topics
    for items in recorded_pages(datastore, after=after, topics=topics, page=page):
        batch = []
        for position, recorded in items:
            batch.append(projection_class.prepare(recorded, Tracking(APPLICATION_NAME, position)))
        view.apply(batch, Tracking(APPLICATION_NAME, items[-1][0]))
        done += len(items)
        if progress is not None:
            progress(done, max(backlog, done))
    return done
