"""Order state and evolve."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.order.events import (
    Address,
    Customer,
    Discount,
    LineQuantity,
    OrderAllocated,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderHeld,
    OrderLinesCancelled,
    OrderLinesEdited,
    OrderLinesShipped,
    OrderLinesShortPicked,
    OrderPickingStarted,
    OrderPlaced,
    OrderReleased,
    OrderReservationsExpired,
    OrderReturnAuthorized,
    OrderShipmentDelivered,
    OrderShipmentLinesDropped,
    OrderShipmentPlanned,
)
from domain.shared.money import Money


class OrderStatus(StrEnum):
    PLACED = "placed"
    ALLOCATED = "allocated"
    BACKORDERED = "backordered"
    PICKING = "picking"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


FINAL = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


class ShipmentStage(StrEnum):
    OPEN = "open"
    PICKING = "picking"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class ShipmentRef(msgspec.Struct, frozen=True, kw_only=True):
    """What the order knows of one of its shipments: which units of which lines it carries."""

    location: str
    lines: dict[int, int]
    stage: ShipmentStage = ShipmentStage.OPEN
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None

    @property
    def unshipped(self) -> bool:
        return self.stage in (ShipmentStage.OPEN, ShipmentStage.PICKING)


class Line(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    sku: str
    quantity: int
    unit_price: Money
    cancelled: int = 0
    allocations: dict[str, int] = msgspec.field(default_factory=dict)
    backordered: int = 0
    shipped: int = 0
    returned: int = 0
    discount: Discount | None = None

    @property
    def open_quantity(self) -> int:
        """Ordered and not cancelled (shipped units included)."""
        return self.quantity - self.cancelled

    @property
    def unshipped(self) -> int:
        return self.open_quantity - self.shipped

    @property
    def allocated(self) -> int:
        return sum(self.allocations.values())


class Order(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID | None = None
    status: OrderStatus = OrderStatus.PLACED
    on_hold: bool = False
    hold_reason: str | None = None
    store: str = ""
    channel: str = ""
    external_id: str | None = None
    currency: str = ""
    customer: Customer | None = None
    shipping_address: Address | None = None
    customer_id: UUID | None = None
    lines: dict[int, Line] = msgspec.field(default_factory=dict)
    placed_at: datetime | None = None
    cancel_reason: str | None = None
    shipments: dict[UUID, ShipmentRef] = msgspec.field(default_factory=dict)
    confirmed_at: datetime | None = None
    discount: Discount | None = None
    shipping_charge: Money | None = None

    @property
    def exists(self) -> bool:
        return self.id is not None

    @property
    def total(self) -> Money:
        amount = sum(
            (line.unit_price.amount * line.open_quantity for line in self.lines.values()),
            Decimal(0),
        )
        return Money.of(amount, self.currency) if self.currency else Money(amount, "")

    @property
    def backordered(self) -> int:
        return sum(line.backordered for line in self.lines.values())

    @property
    def shipped_at(self) -> datetime | None:
        times = [ref.shipped_at for ref in self.shipments.values() if ref.shipped_at]
        return max(times) if times else None

    @property
    def delivered_at(self) -> datetime | None:
        times = [ref.delivered_at for ref in self.shipments.values() if ref.delivered_at]
        return max(times) if times else None

    def in_shipments(self, line_no: int, location: str) -> int:
        """Units of a line at a location already in shipments that have not left."""
        return sum(
            ref.lines.get(line_no, 0)
            for ref in self.shipments.values()
            if ref.unshipped and ref.location == location
        )

    def unassigned(self, line_no: int, location: str) -> int:
        """Units of a line reserved at a location and in no shipment yet."""
        line = self.lines[line_no]
        return line.allocations.get(location, 0) - self.in_shipments(line_no, location)

    def picking_started(self, line_no: int) -> bool:
        return any(
            ref.stage is ShipmentStage.PICKING and ref.lines.get(line_no, 0) > 0
            for ref in self.shipments.values()
        )


def _status_after_allocation(lines: dict[int, Line]) -> OrderStatus:
    if any(line.backordered > 0 for line in lines.values()):
        return OrderStatus.BACKORDERED
    return OrderStatus.ALLOCATED


def _derived(state: Order) -> Order:
    """The status that follows from the lines and shipments (final statuses stay)."""
    if state.status in FINAL:
        return state
    lines = state.lines.values()
    wanted = sum(line.open_quantity for line in lines)
    shipped = sum(line.shipped for line in lines)
    refs = state.shipments.values()
    if shipped and shipped >= wanted:
        sent = [
            ref for ref in refs if ref.stage in (ShipmentStage.SHIPPED, ShipmentStage.DELIVERED)
        ]
        done = all(ref.stage is ShipmentStage.DELIVERED for ref in sent)
        status = OrderStatus.DELIVERED if done else OrderStatus.SHIPPED
    elif shipped:
        status = OrderStatus.PARTIALLY_SHIPPED
    elif any(ref.stage is ShipmentStage.PICKING for ref in refs):
        status = OrderStatus.PICKING
    else:
        status = _status_after_allocation(state.lines)
    return msgspec.structs.replace(state, status=status)


def _with_ref(state: Order, shipment_id: UUID, **changes: object) -> Order:
    shipments = dict(state.shipments)
    shipments[shipment_id] = msgspec.structs.replace(shipments[shipment_id], **changes)
    return msgspec.structs.replace(state, shipments=shipments)


def _minus(counts: dict[int, int], lines: list[LineQuantity]) -> dict[int, int]:
    left = dict(counts)
    for line in lines:
        left[line.line_no] = left.get(line.line_no, 0) - line.quantity
    return {no: qty for no, qty in left.items() if qty > 0}


@singledispatch
def evolve(event: OrderEvent, state: Order) -> Order:
    raise TypeError(f"order cannot apply {type(event).__name__}")


@evolve.register
def _(event: OrderPlaced, state: Order) -> Order:
    return Order(
        id=event.order_id,
        status=OrderStatus.PLACED,
        store=event.store,
        channel=event.channel,
        external_id=event.external_id,
        currency=event.currency,
        customer=event.customer,
        shipping_address=event.shipping_address,
        customer_id=event.customer_id,
        lines={
            line.line_no: Line(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
            )
            for line in event.lines
        },
        placed_at=event.placed_at,
        discount=event.discount,
        shipping_charge=event.shipping_charge,
    )


@evolve.register
def _(event: OrderAllocated, state: Order) -> Order:
    lines = dict(state.lines)
    for allocated in event.lines:
        line = lines[allocated.line_no]
        allocations = dict(line.allocations)
        for allocation in allocated.allocations:
            allocations[allocation.location] = (
                allocations.get(allocation.location, 0) + allocation.quantity
            )
        lines[allocated.line_no] = msgspec.structs.replace(
            line, allocations=allocations, backordered=allocated.backordered
        )
    return _derived(msgspec.structs.replace(state, lines=lines))


@evolve.register
def _(event: OrderHeld, state: Order) -> Order:
    return msgspec.structs.replace(state, on_hold=True, hold_reason=event.reason)


@evolve.register
def _(event: OrderReleased, state: Order) -> Order:
    return msgspec.structs.replace(state, on_hold=False, hold_reason=None)


@evolve.register
def _(event: OrderLinesCancelled, state: Order) -> Order:
    lines = dict(state.lines)
    for cancelled in event.lines:
        line = lines[cancelled.line_no]
        allocations = dict(line.allocations)
        for released in cancelled.released:
            left = allocations.get(released.location, 0) - released.quantity
            if left > 0:
                allocations[released.location] = left
            else:
                allocations.pop(released.location, None)
        lines[cancelled.line_no] = msgspec.structs.replace(
            line,
            cancelled=line.cancelled + cancelled.quantity,
            allocations=allocations,
            backordered=line.backordered - cancelled.backorder_dropped,
        )
    return _derived(msgspec.structs.replace(state, lines=lines))


@evolve.register
def _(event: OrderLinesEdited, state: Order) -> Order:
    lines = dict(state.lines)
    for more in event.increased:
        line = lines[more.line_no]
        lines[more.line_no] = msgspec.structs.replace(line, quantity=line.quantity + more.quantity)
    for new in event.added:
        lines[new.line_no] = Line(
            line_no=new.line_no,
            sku=new.sku,
            quantity=new.quantity,
            unit_price=new.unit_price,
            discount=new.discount,
        )
    return msgspec.structs.replace(state, lines=lines)


@evolve.register
def _(event: OrderCancelled, state: Order) -> Order:
    return msgspec.structs.replace(
        state, status=OrderStatus.CANCELLED, cancel_reason=event.reason, on_hold=False
    )


@evolve.register
def _(event: OrderShipmentPlanned, state: Order) -> Order:
    shipments = dict(state.shipments)
    shipments[event.shipment_id] = ShipmentRef(
        location=event.location, lines={line.line_no: line.quantity for line in event.lines}
    )
    return msgspec.structs.replace(state, shipments=shipments)


@evolve.register
def _(event: OrderShipmentLinesDropped, state: Order) -> Order:
    ref = state.shipments[event.shipment_id]
    left = _minus(ref.lines, event.lines)
    stage = ref.stage if left else ShipmentStage.CANCELLED
    return _with_ref(state, event.shipment_id, lines=left, stage=stage)


@evolve.register
def _(event: OrderPickingStarted, state: Order) -> Order:
    return _derived(_with_ref(state, event.shipment_id, stage=ShipmentStage.PICKING))


@evolve.register
def _(event: OrderLinesShortPicked, state: Order) -> Order:
    lines = dict(state.lines)
    for short in event.lines:
        line = lines[short.line_no]
        allocations = dict(line.allocations)
        allocations[event.location] = allocations.get(event.location, 0) - short.quantity
        if allocations[event.location] <= 0:
            del allocations[event.location]
        lines[short.line_no] = msgspec.structs.replace(
            line, allocations=allocations, backordered=line.backordered + short.quantity
        )
    ref = state.shipments[event.shipment_id]
    left = _minus(ref.lines, event.lines)
    updated = msgspec.structs.replace(state, lines=lines)
    updated = _with_ref(
        updated, event.shipment_id, lines=left, stage=ref.stage if left else ShipmentStage.CANCELLED
    )
    return _derived(updated)


@evolve.register
def _(event: OrderLinesShipped, state: Order) -> Order:
    lines = dict(state.lines)
    for sent in event.lines:
        line = lines[sent.line_no]
        allocations = dict(line.allocations)
        allocations[event.location] = allocations.get(event.location, 0) - sent.quantity
        if allocations[event.location] <= 0:
            del allocations[event.location]
        lines[sent.line_no] = msgspec.structs.replace(
            line, allocations=allocations, shipped=line.shipped + sent.quantity
        )
    updated = _with_ref(
        msgspec.structs.replace(state, lines=lines),
        event.shipment_id,
        lines={line.line_no: line.quantity for line in event.lines},
        stage=ShipmentStage.SHIPPED,
        shipped_at=event.shipped_at,
    )
    return _derived(updated)


@evolve.register
def _(event: OrderShipmentDelivered, state: Order) -> Order:
    return _derived(
        _with_ref(
            state,
            event.shipment_id,
            stage=ShipmentStage.DELIVERED,
            delivered_at=event.delivered_at,
        )
    )


@evolve.register
def _(event: OrderConfirmed, state: Order) -> Order:
    return msgspec.structs.replace(state, confirmed_at=event.confirmed_at)


@evolve.register
def _(event: OrderReservationsExpired, state: Order) -> Order:
    lines = {
        no: msgspec.structs.replace(line, allocations={}, backordered=0)
        for no, line in state.lines.items()
    }
    shipments = {
        sid: msgspec.structs.replace(ref, stage=ShipmentStage.CANCELLED, lines={})
        if ref.unshipped
        else ref
        for sid, ref in state.shipments.items()
    }
    return msgspec.structs.replace(
        state,
        lines=lines,
        shipments=shipments,
        status=OrderStatus.EXPIRED,
        cancel_reason="reservation expired",
        on_hold=False,
    )


@evolve.register
def _(event: OrderReturnAuthorized, state: Order) -> Order:
    lines = dict(state.lines)
    for returned in event.lines:
        line = lines[returned.line_no]
        lines[returned.line_no] = msgspec.structs.replace(
            line, returned=line.returned + returned.quantity
        )
    return msgspec.structs.replace(state, lines=lines)


def fold(events: list[OrderEvent], state: Order | None = None) -> Order:
    current = state or Order()
    for event in events:
        current = evolve(event, current)
    return current
