"""Ports: what the use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from domain.location.model import Location
from domain.product.model import Product
from domain.shared.events import DomainEvent
from domain.store.model import Store


class Metadata(msgspec.Struct, frozen=True, kw_only=True):
    """Who caused an event, why, and when it was recorded. Stored with every event."""

    tenant_id: UUID
    actor: str
    correlation_id: UUID
    causation_id: UUID | None = None
    request_id: str | None = None
    recorded_at: datetime


class Recorded(msgspec.Struct, frozen=True):
    """A stored event: its stream, its version in the stream, the event and its metadata."""

    originator_id: UUID
    originator_version: int
    event: DomainEvent
    metadata: Metadata

    @property
    def timestamp(self) -> datetime:
        return self.metadata.recorded_at


class Append(msgspec.Struct, frozen=True):
    """New events for one stream, expected to follow `expected_version` (0 for a new stream)."""

    stream_id: UUID
    expected_version: int
    events: Sequence[DomainEvent]
    state: object = None
    """The stream's state after these events: reference data (stores, locations, products)
    keeps it in the catalog table in the same transaction."""


class StoredResponse(msgspec.Struct, frozen=True):
    """The first answer to an idempotent request, replayed for its retries."""

    request_hash: str
    status: int
    body: bytes
    version: int | None = None


class IdempotentWrite(msgspec.Struct, frozen=True):
    tenant_id: UUID
    key: str
    response: StoredResponse


class ConcurrencyConflict(Exception):
    """Another writer appended to one of the streams first."""


class DuplicateIdempotencyKey(Exception):
    """A concurrent request with the same Idempotency-Key committed first."""


class EventStore(Protocol):
    def load(self, after: Mapping[UUID, int]) -> dict[UUID, list[Recorded]]:
        """Events of each stream with versions above the given one, in version order."""
        ...

    def append(
        self,
        appends: Sequence[Append],
        metadata: Metadata,
        *,
        idempotent: IdempotentWrite | None = None,
    ) -> None:
        """Appends all streams in one transaction. The events take their places in the global
        order right after the commit (ADR 0047).

        Raises ConcurrencyConflict if any stream moved past its expected version, and
        DuplicateIdempotencyKey if the idempotency key was taken concurrently.
        """
        ...


class SnapshotStore(Protocol):
    def get_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, tuple[int, bytes]]: ...

    def get_at_or_below(self, stream_id: UUID, version: int) -> tuple[int, bytes] | None:
        """The newest snapshot taken at or below `version` (the latest one, or one kept)."""
        ...

    def history(self) -> Iterator[tuple[UUID, int, bytes]]:
        """Every kept (older) snapshot: stream id, version, state."""
        ...

    def put(self, stream_id: UUID, version: int, state: bytes) -> None: ...


class IdempotencyStore(Protocol):
    def find(self, tenant_id: UUID, key: str) -> StoredResponse | None: ...

    def remember(self, write: IdempotentWrite) -> None: ...


class Cache(Protocol):
    """A small shared key-value cache (Redis in production, in-process by default)."""

    in_process: bool

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    def delete(self, key: str) -> None: ...

    def incr(self, key: str, ttl_seconds: int) -> int:
        """Adds one to a counter, which expires `ttl_seconds` after its first increment."""
        ...


class CatalogView(msgspec.Struct, frozen=True):
    store: Store | None
    products: dict[str, Product]
    locations: list[Location]


class Catalog(Protocol):
    """Reference data, written in the same transactions as its events, so never stale."""

    def view(self, tenant_id: UUID, store: str, skus: Sequence[str]) -> CatalogView: ...

    def locations(self, tenant_id: UUID) -> list[Location]: ...

    def stores(self, tenant_id: UUID) -> list[Store]: ...

    def product(self, tenant_id: UUID, sku: str) -> Product | None: ...

    def products(self, tenant_id: UUID, *, after: str | None, limit: int) -> list[Product]: ...
