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
    OrderAllocated,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderLinesCancelled,
    OrderPlaced,
    OrderReleased,
)
from domain.shared.money import Money


class OrderStatus(StrEnum):
    PLACED = "placed"
    ALLOCATED = "allocated"
    BACKORDERED = "backordered"
    CANCELLED = "cancelled"


class Line(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    sku: str
    quantity: int
    unit_price: Money
    cancelled: int = 0
    allocations: dict[str, int] = msgspec.field(default_factory=dict)
    backordered: int = 0
    discount: Discount | None = None

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.cancelled

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
    lines: dict[int, Line] = msgspec.field(default_factory=dict)
    placed_at: datetime | None = None
    cancel_reason: str | None = None
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


def _status_after_allocation(lines: dict[int, Line]) -> OrderStatus:
    if any(line.backordered > 0 for line in lines.values()):
        return OrderStatus.BACKORDERED
    return OrderStatus.ALLOCATED


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
    return msgspec.structs.replace(state, lines=lines, status=_status_after_allocation(lines))


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
    return msgspec.structs.replace(state, lines=lines, status=_status_after_allocation(lines))


@evolve.register
def _(event: OrderCancelled, state: Order) -> Order:
    return msgspec.structs.replace(
        state, status=OrderStatus.CANCELLED, cancel_reason=event.reason, on_hold=False
    )


def fold(events: list[OrderEvent], state: Order | None = None) -> Order:
    current = state or Order()
    for event in events:
        current = evolve(event, current)
    return current
