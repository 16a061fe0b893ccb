"""Shipment commands. Each decides the shipment's events together with those of the order (and of
the stock) they move, so the executor appends all of them atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from domain.location.model import Location
from domain.order.allocation import LineRequest, allocate
from domain.order.decide import Decision, StockKey
from domain.order.errors import OrderNotFound, UnknownLine
from domain.order.events import (
    LineQuantity,
    OrderAllocated,
    OrderEvent,
    OrderLinesShipped,
    OrderLinesShortPicked,
    OrderPickingStarted,
    OrderShipmentDelivered,
    OrderShipmentPlanned,
)
from domain.order.state import FINAL, Order
from domain.shared.errors import InvalidCommand
from domain.shipment.errors import (
    ExceedsAllocation,
    NothingToShip,
    OrderClosed,
    OrderOnHold,
    OverPicked,
    PackingMismatch,
    ShipmentNotFound,
    WrongShipmentStatus,
)
from domain.shipment.events import (
    Parcel,
    PickedLine,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentEvent,
    ShipmentExceptionRecorded,
    ShipmentLabelled,
    ShipmentLine,
    ShipmentPacked,
    ShipmentPicked,
    ShipmentPickRecorded,
    ShipmentShipped,
    ShipmentTrackingUpdated,
)
from domain.shipment.state import LEFT, NOT_PICKED, READY_TO_SHIP, Label, Shipment, ShipmentStatus
from domain.stock import decide as stock_rules
from domain.stock.events import StockEvent
from domain.stock.state import Stock
from domain.stock.state import fold as fold_stock

PRIORITIES = ("expedited", "standard")
TRACKING_STATUSES = ("in_transit", "out_for_delivery", "delivered", "exception")


class PickCount(msgspec.Struct, frozen=True):
    line_no: int
    picked: int
    short: int = 0


def _open_order(order: Order) -> None:
    if not order.exists:
        raise OrderNotFound("no such order")
    if order.status in FINAL:
        raise OrderClosed(f"order {order.id} is {order.status}; nothing of it can ship")
    if order.on_hold:
        raise OrderOnHold(
            f"order {order.id} is on hold ({order.hold_reason}); release it before fulfilling it"
        )


def _existing(shipment: Shipment) -> UUID:
    if shipment.id is None:
        raise ShipmentNotFound("no such shipment")
    return shipment.id


def _require(shipment: Shipment, allowed: Sequence[ShipmentStatus], doing: str) -> None:
    if shipment.status not in allowed:
        expected = " or ".join(str(status) for status in allowed)
        raise WrongShipmentStatus(
            f"shipment {shipment.id} is {shipment.status}; it must be {expected} to {doing}",
            status=str(shipment.status),
        )


def create(
    order: Order,
    *,
    shipment_id: UUID,
    location: str,
    lines: Mapping[int, int] | None,
    priority: str,
    now: datetime,
) -> Decision:
    """A shipment of allocated units at `location` not yet in another shipment (all of them when
    `lines` is None)."""
    _open_order(order)
    assert order.id is not None
    if priority not in PRIORITIES:
        raise InvalidCommand(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    free = {no: order.unassigned(no, location) for no in order.lines}
    if lines is None:
        wanted = {no: qty for no, qty in free.items() if qty > 0}
        if not wanted:
            raise NothingToShip(
                f"order {order.id} has no allocated units at {location} left to ship",
                location=location,
            )
    else:
        wanted = dict(lines)
        for no, qty in wanted.items():
            if no not in order.lines:
                raise UnknownLine(f"order has no line {no}", field="lines")
            if qty <= 0:
                raise InvalidCommand(f"line {no}: quantity must be positive", field="lines")
            if qty > free[no]:
                raise ExceedsAllocation(
                    f"line {no}: only {max(free[no], 0)} units are allocated at {location} "
                    f"and in no other shipment, not {qty}",
                    line_no=no,
                    available=max(free[no], 0),
                )
    ordered = sorted(wanted.items())
    created = ShipmentCreated(
        shipment_id=shipment_id,
        order_id=order.id,
        store=order.store,
        location=location,
        lines=[ShipmentLine(no, order.lines[no].sku, qty) for no, qty in ordered],
        created_at=now,
        priority=priority,
        destination=order.shipping_address,
        order_placed_at=order.placed_at,
        customer_id=order.customer_id,
    )
    planned = OrderShipmentPlanned(
        shipment_id=shipment_id,
        location=location,
        lines=[LineQuantity(no, qty) for no, qty in ordered],
    )
    return Decision(order=[planned], stock={}, shipments={shipment_id: [created]})


def pick(
    shipment: Shipment,
    order: Order,
    *,
    counts: Sequence[PickCount],
    stock: Mapping[StockKey, Stock],
    reroute: bool = False,
    locations: Sequence[Location] = (),
    now: datetime,
) -> Decision:
    """Records picked units and units explicitly reported short.

    Short units release their reservation here. With `reroute`, they are reserved again at the
    nearest other locations that have them (what none has waits as a backorder).
    """
    shipment_id = _existing(shipment)
    _require(shipment, NOT_PICKED, "record picks")
    _open_order(order)
    if not counts:
        raise InvalidCommand("report at least one line", field="lines")
    seen: set[int] = set()
    picked_lines: list[PickedLine] = []
    for count in counts:
        line = shipment.lines.get(count.line_no)
        if line is None:
            raise UnknownLine(f"shipment has no line {count.line_no}", field="lines")
        if count.line_no in seen:
            raise InvalidCommand(f"line {count.line_no} is reported twice", field="lines")
        seen.add(count.line_no)
        if count.picked < 0 or count.short < 0 or count.picked + count.short == 0:
            raise InvalidCommand(
                f"line {count.line_no}: report picked and/or short units (non-negative)",
                field="lines",
            )
        if count.picked + count.short > line.to_pick:
            raise OverPicked(
                f"line {count.line_no}: {line.to_pick} left to pick, "
                f"not {count.picked + count.short}",
                field="lines",
            )
        picked_lines.append(PickedLine(count.line_no, line.sku, count.picked, count.short))

    shipment_events: list[ShipmentEvent] = [ShipmentPickRecorded(lines=picked_lines, picked_at=now)]
    order_events: list[OrderEvent] = []
    if shipment.status is ShipmentStatus.CREATED:
        order_events.append(OrderPickingStarted(shipment_id=shipment_id))
    stock_events: dict[StockKey, list[StockEvent]] = {}
    assert order.id is not None
    shorts = [p for p in picked_lines if p.short]
    for short in shorts:
        key = (short.sku, shipment.location)
        stock_events.setdefault(key, []).extend(
            stock_rules.release(
                stock.get(key, Stock(sku=short.sku, location=shipment.location)),
                order_id=order.id,
                line_no=short.line_no,
                quantity=short.short,
                reason="short_pick",
            )
        )
    if shorts:
        order_events.append(
            OrderLinesShortPicked(
                shipment_id=shipment_id,
                location=shipment.location,
                lines=[LineQuantity(p.line_no, p.short) for p in shorts],
            )
        )
        if reroute:
            order_events.extend(
                _reroute(order, shipment.location, shorts, stock, locations, stock_events)
            )

    after = {p.line_no: p for p in picked_lines}
    remaining = {
        no: line.to_pick - (after[no].picked + after[no].short if no in after else 0)
        for no, line in shipment.lines.items()
    }
    if not any(remaining.values()):
        final = [
            ShipmentLine(no, line.sku, line.picked + (after[no].picked if no in after else 0))
            for no, line in sorted(shipment.lines.items())
        ]
        final = [line for line in final if line.quantity > 0]
        if final:
            shipment_events.append(ShipmentPicked(lines=final, picked_at=now))
        else:
            shipment_events.append(
                ShipmentCancelled(reason="nothing was found to pick", cancelled_at=now)
            )
    return Decision(
        order=order_events, stock=stock_events, shipments={shipment_id: shipment_events}
    )


def _reroute(
    order: Order,
    here: str,
    shorts: Sequence[PickedLine],
    stock: Mapping[StockKey, Stock],
    locations: Sequence[Location],
    stock_events: dict[StockKey, list[StockEvent]],
) -> list[OrderEvent]:
    assert order.id is not None
    assert order.shipping_address is not None
    others = [loc for loc in locations if loc.code != here]
    available = {key: state.available for key, state in stock.items() if key[1] != here}
    plan = allocate(
        [LineRequest(p.line_no, p.sku, p.short) for p in shorts],
        available,
        others,
        order.shipping_address,
    )
    working = dict(stock)
    for line_plan in plan:
        sku = order.lines[line_plan.line_no].sku
        for allocation in line_plan.allocations:
            key = (sku, allocation.location)
            current = working.get(key, Stock(sku=sku, location=allocation.location))
            events = stock_rules.reserve(
                current,
                sku=sku,
                location=allocation.location,
                order_id=order.id,
                line_no=line_plan.line_no,
                quantity=allocation.quantity,
            )
            working[key] = fold_stock(list(events), current)
            stock_events.setdefault(key, []).extend(events)
    moved = [
        msgspec.structs.replace(
            line_plan,
            backordered=order.lines[line_plan.line_no].backordered + line_plan.backordered,
        )
        for line_plan in plan
        if line_plan.allocations
    ]
    return [OrderAllocated(lines=moved)] if moved else []


def check_packable(shipment: Shipment) -> None:
    _existing(shipment)
    _require(shipment, (ShipmentStatus.PICKED,), "pack it")


def pack(shipment: Shipment, *, parcels: Sequence[Parcel], now: datetime) -> list[ShipmentEvent]:
    """Parcels must hold exactly the picked units."""
    check_packable(shipment)
    if not parcels:
        raise InvalidCommand("pack at least one parcel", field="parcels")
    packed: dict[int, int] = {}
    for number, parcel in enumerate(parcels):
        if min(parcel.length_mm, parcel.width_mm, parcel.height_mm, parcel.weight_grams) <= 0:
            raise InvalidCommand(
                f"parcel {number + 1}: dimensions and weight must be positive",
                field=f"parcels[{number}]",
            )
        if not parcel.lines:
            raise InvalidCommand(
                f"parcel {number + 1} holds no lines", field=f"parcels[{number}].lines"
            )
        for item in parcel.lines:
            if item.line_no not in shipment.lines or item.quantity <= 0:
                raise PackingMismatch(
                    f"parcel {number + 1}: line {item.line_no} x {item.quantity} is not in "
                    "this shipment",
                    field=f"parcels[{number}].lines",
                )
            packed[item.line_no] = packed.get(item.line_no, 0) + item.quantity
    picked = {no: line.picked for no, line in shipment.lines.items() if line.picked}
    if packed != picked:
        raise PackingMismatch(
            f"parcels must hold exactly the picked units {picked}, not {packed}",
            field="parcels",
        )
    return [ShipmentPacked(parcels=list(parcels), packed_at=now)]


def check_labellable(shipment: Shipment) -> None:
    _existing(shipment)
    _require(shipment, (ShipmentStatus.PACKED,), "buy a label")


def label(shipment: Shipment, *, bought: Label, now: datetime) -> list[ShipmentEvent]:
    check_labellable(shipment)
    return [
        ShipmentLabelled(
            carrier=bought.carrier,
            service=bought.service,
            tracking_number=bought.tracking_number,
            cost=bought.cost,
            label_format=bought.label_format,
            label=bought.label,
            labelled_at=now,
            customer_id=shipment.customer_id,
        )
    ]


def ship(
    shipment: Shipment, order: Order, *, stock: Mapping[StockKey, Stock], now: datetime
) -> Decision:
    """Commits the picked units' reservations (on hand and reserved drop) and marks the order's
    lines shipped, in one decision."""
    shipment_id = _existing(shipment)
    _require(shipment, READY_TO_SHIP, "ship it")
    assert order.id is not None
    assert shipment.order_id == order.id
    lines = [
        ShipmentLine(no, line.sku, line.picked)
        for no, line in sorted(shipment.lines.items())
        if line.picked
    ]
    stock_events: dict[StockKey, list[StockEvent]] = {}
    for line in lines:
        key = (line.sku, shipment.location)
        stock_events.setdefault(key, []).extend(
            stock_rules.commit(
                stock.get(key, Stock(sku=line.sku, location=shipment.location)),
                order_id=order.id,
                line_no=line.line_no,
                shipment_id=shipment_id,
                quantity=line.quantity,
            )
        )
    bought = shipment.label
    shipped = ShipmentShipped(
        shipment_id=shipment_id,
        order_id=order.id,
        store=shipment.store,
        location=shipment.location,
        lines=lines,
        shipped_at=now,
        carrier=bought.carrier if bought else None,
        service=bought.service if bought else None,
        tracking_number=bought.tracking_number if bought else None,
    )
    order_event = OrderLinesShipped(
        shipment_id=shipment_id,
        location=shipment.location,
        lines=[LineQuantity(line.line_no, line.quantity) for line in lines],
        shipped_at=now,
    )
    return Decision(order=[order_event], stock=stock_events, shipments={shipment_id: [shipped]})


def deliver(shipment: Shipment, *, delivered_at: datetime) -> Decision:
    """Delivered once; a repeated delivery report changes nothing."""
    shipment_id = _existing(shipment)
    if shipment.status is ShipmentStatus.DELIVERED:
        return Decision(order=[], stock={})
    _require(shipment, (ShipmentStatus.SHIPPED,), "deliver it")
    return Decision(
        order=[OrderShipmentDelivered(shipment_id=shipment_id, delivered_at=delivered_at)],
        stock={},
        shipments={shipment_id: [ShipmentDelivered(delivered_at=delivered_at)]},
    )


def track(
    shipment: Shipment,
    *,
    status: str,
    description: str,
    occurred_at: datetime,
    place: str | None = None,
) -> Decision:
    """A carrier's tracking update: `delivered` delivers, `exception` is recorded as one."""
    shipment_id = _existing(shipment)
    if status not in TRACKING_STATUSES:
        raise InvalidCommand(
            f"status must be one of {', '.join(TRACKING_STATUSES)}", field="status"
        )
    _require(shipment, LEFT, "take tracking updates")
    if status == "delivered":
        return deliver(shipment, delivered_at=occurred_at)
    if not description.strip():
        raise InvalidCommand("a tracking update needs a description", field="description")
    event: ShipmentEvent
    if status == "exception":
        event = ShipmentExceptionRecorded(
            description=description, occurred_at=occurred_at, place=place
        )
    else:
        event = ShipmentTrackingUpdated(
            status=status, description=description, occurred_at=occurred_at, place=place
        )
    return Decision(order=[], stock={}, shipments={shipment_id: [event]})
