"""Events of the Shipment aggregate: one stream per shipment.

These are the contract other parts rely on (invoicing on shipment, analytics, integrators):
fields may be added with defaults, never renamed or removed without a schema version bump.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.order.events import Address, personal_address
from domain.shared.events import DomainEvent
from domain.shared.money import Money


class ShipmentLine(msgspec.Struct, frozen=True):
    line_no: int
    sku: str
    quantity: int


class ShipmentEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "shipment"


class ShipmentCreated(ShipmentEvent, frozen=True, kw_only=True):
    personal_data = personal_address("destination")
    data_subject = "customer_id"

    shipment_id: UUID
    order_id: UUID
    store: str
    location: str
    lines: list[ShipmentLine]
    created_at: datetime
    priority: str = "standard"
    destination: Address | None = None
    order_placed_at: datetime | None = None
    customer_id: UUID | None = None


class ShipmentShipped(ShipmentEvent, frozen=True, kw_only=True):
    """The parcels left the building: `lines` is what actually shipped (after short picks)."""

    shipment_id: UUID
    order_id: UUID
    store: str
    location: str
    lines: list[ShipmentLine]
    shipped_at: datetime
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None


class PickedLine(msgspec.Struct, frozen=True):
    line_no: int
    sku: str
    picked: int
    short: int


class ParcelLine(msgspec.Struct, frozen=True):
    line_no: int
    quantity: int


class Parcel(msgspec.Struct, frozen=True, kw_only=True):
    length_mm: int
    width_mm: int
    height_mm: int
    weight_grams: int
    lines: list[ParcelLine]
    box: str | None = None


class ShipmentLinesDropped(ShipmentEvent, frozen=True, kw_only=True):
    """Order lines cancelled before picking started no longer ship here."""

    lines: list[ShipmentLine]
    reason: str
    dropped_at: datetime


class ShipmentPickRecorded(ShipmentEvent, frozen=True, kw_only=True):
    """Units picked (and units explicitly reported short) since the last pick record."""

    lines: list[PickedLine]
    picked_at: datetime


class ShipmentPicked(ShipmentEvent, frozen=True, kw_only=True):
    """Every line is picked or reported short: `lines` is what will be packed."""

    lines: list[ShipmentLine]
    picked_at: datetime


class ShipmentPacked(ShipmentEvent, frozen=True, kw_only=True):
    parcels: list[Parcel]
    packed_at: datetime


class ShipmentLabelled(ShipmentEvent, frozen=True, kw_only=True):
    """`label` (ZPL or PDF) prints the recipient's name and address."""

    personal_data = ("label",)
    data_subject = "customer_id"

    carrier: str
    service: str
    tracking_number: str
    cost: Money
    label_format: str
    label: str
    labelled_at: datetime
    customer_id: UUID | None = None


class ShipmentTrackingUpdated(ShipmentEvent, frozen=True, kw_only=True):
    status: str
    description: str
    occurred_at: datetime
    place: str | None = None


class ShipmentExceptionRecorded(ShipmentEvent, frozen=True, kw_only=True):
    """The carrier reported a problem (damaged, address unknown, held at customs...)."""

    description: str
    occurred_at: datetime
    place: str | None = None


class ShipmentDelivered(ShipmentEvent, frozen=True, kw_only=True):
    delivered_at: datetime


class ShipmentCancelled(ShipmentEvent, frozen=True, kw_only=True):
    """Nothing is left to ship (every line cancelled, short picked or expired)."""

    reason: str
    cancelled_at: datetime
