"""Deterministic stream ids for natural keys: re-imports and retries hit the same stream."""

from __future__ import annotations

from uuid import UUID, uuid5

KONTOR_NAMESPACE = UUID("6f1c2f0e-3b7e-4c55-9d55-6b0a2c1f8e11")


def stream_id(tenant_id: UUID, kind: str, *key: str) -> UUID:
    return uuid5(KONTOR_NAMESPACE, "\x1f".join((str(tenant_id), kind, *key)))


def stock_stream_id(tenant_id: UUID, sku: str, location: str) -> UUID:
    return stream_id(tenant_id, "stock", sku, location)


def imported_order_id(tenant_id: UUID, channel: str, external_id: str) -> UUID:
    return stream_id(tenant_id, "order", channel, external_id)


def product_stream_id(tenant_id: UUID, sku: str) -> UUID:
    return stream_id(tenant_id, "product", sku)


def location_stream_id(tenant_id: UUID, code: str) -> UUID:
    return stream_id(tenant_id, "location", code)


def store_stream_id(tenant_id: UUID, code: str) -> UUID:
    return stream_id(tenant_id, "store", code)


def event_id(stream_id: UUID, version: int) -> UUID:
    """An event's id, derived from its place in its stream: the same on every read and replay."""
    return uuid5(stream_id, str(version))
