"""Shipment state and evolve: pick list -> picked -> packed -> labelled -> shipped -> delivered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.order.events import Address
from domain.shared.money import Money
from domain.shipment.events import (
    Parcel,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentEvent,
    ShipmentExceptionRecorded,
    ShipmentLabelled,
    ShipmentLinesDropped,
    ShipmentPacked,
    ShipmentPicked,
    ShipmentPickRecorded,
    ShipmentShipped,
    ShipmentTrackingUpdated,
)


class ShipmentStatus(StrEnum):
    CREATED = "created"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    LABELLED = "labelled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


NOT_PICKED = (ShipmentStatus.CREATED, ShipmentStatus.PICKING)
READY_TO_SHIP = (ShipmentStatus.PACKED, ShipmentStatus.LABELLED)
LEFT = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)


class Line(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    sku: str
    quantity: int
    picked: int = 0
    short: int = 0

    @property
    def to_pick(self) -> int:
        return self.quantity - self.picked - self.short


class Label(msgspec.Struct, frozen=True, kw_only=True):
    carrier: str
    service: str
    tracking_number: str
    cost: Money
    label_format: str
    label: str


class Step(msgspec.Struct, frozen=True):
    """One entry of the status timeline."""

    status: str
    at: datetime
    detail: str | None = None


class Shipment(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID | None = None
    order_id: UUID | None = None
    store: str = ""
    location: str = ""
    priority: str = "standard"
    destination: Address | None = None
    customer_id: UUID | None = None
    status: ShipmentStatus = ShipmentStatus.CREATED
    lines: dict[int, Line] = msgspec.field(default_factory=dict)
    parcels: list[Parcel] = msgspec.field(default_factory=list)
    label: Label | None = None
    exceptions: int = 0
    timeline: list[Step] = msgspec.field(default_factory=list)
    order_placed_at: datetime | None = None
    created_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.id is not None

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines.values())

    @property
    def picked_units(self) -> int:
        return sum(line.picked for line in self.lines.values())


def _step(state: Shipment, status: str, at: datetime, detail: str | None = None) -> list[Step]:
    return [*state.timeline, Step(status, at, detail)]


@singledispatch
def evolve(event: ShipmentEvent, state: Shipment) -> Shipment:
    raise TypeError(f"shipment cannot apply {type(event).__name__}")


@evolve.register
def _(event: ShipmentCreated, state: Shipment) -> Shipment:
    return Shipment(
        id=event.shipment_id,
        order_id=event.order_id,
        store=event.store,
        location=event.location,
        priority=event.priority,
        destination=event.destination,
        customer_id=event.customer_id,
        lines={
            line.line_no: Line(line_no=line.line_no, sku=line.sku, quantity=line.quantity)
            for line in event.lines
        },
        timeline=[Step(ShipmentStatus.CREATED, event.created_at)],
        order_placed_at=event.order_placed_at,
        created_at=event.created_at,
    )


@evolve.register
def _(event: ShipmentLinesDropped, state: Shipment) -> Shipment:
    lines = dict(state.lines)
    for dropped in event.lines:
        line = lines[dropped.line_no]
        if line.quantity > dropped.quantity:
            lines[dropped.line_no] = msgspec.structs.replace(
                line, quantity=line.quantity - dropped.quantity
            )
        else:
            del lines[dropped.line_no]
    detail = ", ".join(f"line {d.line_no} -{d.quantity}" for d in event.lines)
    return msgspec.structs.replace(
        state, lines=lines, timeline=_step(state, "lines_dropped", event.dropped_at, detail)
    )


@evolve.register
def _(event: ShipmentPickRecorded, state: Shipment) -> Shipment:
    lines = dict(state.lines)
    for pick in event.lines:
        line = lines[pick.line_no]
        lines[pick.line_no] = msgspec.structs.replace(
            line, picked=line.picked + pick.picked, short=line.short + pick.short
        )
    timeline = state.timeline
    if state.status is ShipmentStatus.CREATED:
        timeline = _step(state, ShipmentStatus.PICKING, event.picked_at)
    short = sum(pick.short for pick in event.lines)
    if short:
        timeline = [*timeline, Step("short_picked", event.picked_at, f"{short} units not found")]
    return msgspec.structs.replace(
        state, lines=lines, status=ShipmentStatus.PICKING, timeline=timeline
    )


@evolve.register
def _(event: ShipmentPicked, state: Shipment) -> Shipment:
    return msgspec.structs.replace(
        state,
        status=ShipmentStatus.PICKED,
        timeline=_step(state, ShipmentStatus.PICKED, event.picked_at),
    )


@evolve.register
def _(event: ShipmentPacked, state: Shipment) -> Shipment:
    return msgspec.structs.replace(
        state,
        status=ShipmentStatus.PACKED,
        parcels=list(event.parcels),
        timeline=_step(
            state, ShipmentStatus.PACKED, event.packed_at, f"{len(event.parcels)} parcel(s)"
        ),
    )


@evolve.register
def _(event: ShipmentLabelled, state: Shipment) -> Shipment:
    label = Label(
        carrier=event.carrier,
        service=event.service,
        tracking_number=event.tracking_number,
        cost=event.cost,
        label_format=event.label_format,
        label=event.label,
    )
    detail = f"{event.carrier} {event.service} {event.tracking_number}"
    return msgspec.structs.replace(
        state,
        status=ShipmentStatus.LABELLED,
        label=label,
        timeline=_step(state, ShipmentStatus.LABELLED, event.labelled_at, detail),
    )


@evolve.register
def _(event: ShipmentShipped, state: Shipment) -> Shipment:
    if not state.exists:  # shipped by a system that recorded only the contract event
        state = Shipment(
            id=event.shipment_id,
            order_id=event.order_id,
            store=event.store,
            location=event.location,
            lines={
                line.line_no: Line(
                    line_no=line.line_no, sku=line.sku, quantity=line.quantity, picked=line.quantity
                )
                for line in event.lines
            },
            created_at=event.shipped_at,
        )
    return msgspec.structs.replace(
        state,
        status=ShipmentStatus.SHIPPED,
        shipped_at=event.shipped_at,
        timeline=_step(state, ShipmentStatus.SHIPPED, event.shipped_at),
    )


@evolve.register
def _(event: ShipmentTrackingUpdated, state: Shipment) -> Shipment:
    detail = event.description + (f" ({event.place})" if event.place else "")
    return msgspec.structs.replace(
        state, timeline=_step(state, event.status, event.occurred_at, detail)
    )


@evolve.register
def _(event: ShipmentExceptionRecorded, state: Shipment) -> Shipment:
    detail = event.description + (f" ({event.place})" if event.place else "")
    return msgspec.structs.replace(
        state,
        exceptions=state.exceptions + 1,
        timeline=_step(state, "exception", event.occurred_at, detail),
    )


@evolve.register
def _(event: ShipmentDelivered, state: Shipment) -> Shipment:
    return msgspec.structs.replace(
        state,
        status=ShipmentStatus.DELIVERED,
        delivered_at=event.delivered_at,
        timeline=_step(state, ShipmentStatus.DELIVERED, event.delivered_at),
    )


@evolve.register
def _(event: ShipmentCancelled, state: Shipment) -> Shipment:
    return msgspec.structs.replace(
        state,
        status=ShipmentStatus.CANCELLED,
        timeline=_step(state, ShipmentStatus.CANCELLED, event.cancelled_at, event.reason),
    )


def fold(events: list[ShipmentEvent], state: Shipment | None = None) -> Shipment:
    current = state or Shipment()
    for event in events:
        current = evolve(event, current)
    return current
