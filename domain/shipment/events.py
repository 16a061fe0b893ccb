"""Events of the Shipment aggregate: one stream per shipment.

These are the contract other parts rely on (invoicing on shipment, analytics, integrators):
fields may be added with defaults, never renamed or removed without a schema version bump.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.shared.events import DomainEvent


class ShipmentLine(msgspec.Struct, frozen=True):
    line_no: int
    sku: str
    quantity: int


class ShipmentEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "shipment"


class ShipmentCreated(ShipmentEvent, frozen=True, kw_only=True):
    shipment_id: UUID
    order_id: UUID
    store: str
    location: str
    lines: list[ShipmentLine]
    created_at: datetime


class ShipmentShipped(ShipmentEvent, frozen=True, kw_only=True):
    """The parcels left the building: `lines` is what actually shipped (after short picks)."""

    shipment_id: UUID
    order_id: UUID
    store: str
    location: str
    lines: list[ShipmentLine]
    shipped_at: datetime
