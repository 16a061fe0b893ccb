"""Kontor's event store on the eventsourcing library's PostgreSQL infrastructure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Mapper, StoredEvent
from psycopg.conninfo import conninfo_to_dict

from adapters.postgres.mapper import StructMapper, decode_event, encode_state
from adapters.postgres.recorder import KontorRecorder
from application.ports import (
    Append,
    ConcurrencyConflict,
    DuplicateIdempotencyKey,
    IdempotentWrite,
    Metadata,
    Recorded,
)
from domain.location.model import Location
from domain.product.model import Product
from domain.store.model import Store

APPLICATION_NAME = "Kontor"


def library_env(
    database_url: str, *, pool_size: int = 8, create_tables: bool = False
) -> dict[str, str]:
    """The eventsourcing library's POSTGRES_* settings for a libpq URL.

    Tables are created by `migrate` only (`create_tables=True`), never by every worker that
    starts, so concurrent starts don't race on DDL.
    """
    parts = conninfo_to_dict(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(parts.get("port") or "5432"),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_PRE_PING": "n",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "CREATE_TABLE": "y" if create_tables else "n",
    }


class KontorEvents(Application[UUID]):
    """The library application whose recorder holds every Kontor event.

    Command handling does not go through the library's aggregate repository (Kontor's
    aggregates are pure decide/evolve functions); projections subscribe to this application.
    """

    name = APPLICATION_NAME

    def construct_mapper(self) -> Mapper[UUID]:
        return StructMapper()

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = KontorRecorder(
            datastore=self.factory.datastore,  # type: ignore[attr-defined]
            events_table_name=f"{self.name.lower()}_events",
        )
        if self.factory.env_create_table():  # type: ignore[attr-defined]
            recorder.create_table()
        return recorder


def _catalog_row(tenant_id: UUID, append: Append) -> Any:
    """Reference data's current state, written with its events (read by `PostgresCatalog`)."""
    state = append.state
    if isinstance(state, Location):
        kind, code = "location", state.code
    elif isinstance(state, Store):
        kind, code = "store", state.code
    elif isinstance(state, Product):
        kind, code = "product", state.sku
    else:
        return None
    version = append.expected_version + len(append.events)
    return (tenant_id, kind, code, msgspec.json.encode(state), version)


class PostgresEventStore:
    """Implements the EventStore port."""

    def __init__(self, app: KontorEvents) -> None:
        self.app = app
        self.recorder = cast(KontorRecorder, app.recorder)

    @property
    def datastore(self) -> Any:
        return self.recorder.datastore

    def load(self, after: Mapping[UUID, int]) -> dict[UUID, list[Recorded]]:
        loaded: dict[UUID, list[Recorded]] = {stream_id: [] for stream_id in after}
        for stored in self.recorder.load(after):
            event, metadata = decode_event(stored.topic, stored.state)
            stream_id = cast(UUID, stored.originator_id)
            loaded[stream_id].append(
                Recorded(stream_id, stored.originator_version, event, metadata)
            )
        return loaded

    def append(
        self,
        appends: Sequence[Append],
        metadata: Metadata,
        *,
        idempotent: IdempotentWrite | None = None,
    ) -> None:
        stored: list[StoredEvent] = []
        catalog_rows = []
        for append in appends:
            for offset, event in enumerate(append.events, start=1):
                version = append.expected_version + offset
                stored.append(
                    StoredEvent(
                        originator_id=append.stream_id,
                        originator_version=version,
                        topic=type(event).topic(),
                        state=encode_state(event, metadata),
                    )
                )
            row = _catalog_row(metadata.tenant_id, append)
            if row is not None:
                catalog_rows.append(row)
        idempotency = None
        if idempotent is not None:
            response = idempotent.response
            idempotency = (
                idempotent.tenant_id,
                idempotent.key,
                response.request_hash,
                response.status,
                response.body,
                response.version,
            )
        try:
            self.recorder.append(stored, idempotency=idempotency, catalog_rows=catalog_rows)
        except IntegrityError as error:
            if "idempotency_keys_pkey" in str(error):
                raise DuplicateIdempotencyKey(str(error)) from error
            raise ConcurrencyConflict(str(error)) from error
