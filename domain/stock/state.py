"""Stock state and its evolve function. Invariant: 0 <= reserved <= on_hand."""

from __future__ import annotations

from decimal import Decimal
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.shared.money import Money
from domain.stock.events import (
    StockAdjusted,
    StockEvent,
    StockReceived,
    StockReservationReleased,
    StockReserved,
    StockTransferredIn,
    StockTransferredOut,
)

COST_PLACES = Decimal("0.0001")


class Stock(msgspec.Struct, frozen=True, kw_only=True):
    sku: str = ""
    location: str = ""
    on_hand: int = 0
    reserved: int = 0
    reservations: dict[UUID, int] = msgspec.field(default_factory=dict)
    average_cost: Money | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def reserved_for(self, order_id: UUID) -> int:
        return self.reservations.get(order_id, 0)


def _with_cost(state: Stock, quantity: int, unit_cost: Money | None) -> Money | None:
    """Moving-average unit cost over what is on hand (stays put when a receipt has no cost)."""
    if unit_cost is None:
        return state.average_cost
    if state.average_cost is None or state.on_hand <= 0:
        return Money(unit_cost.amount.quantize(COST_PLACES), unit_cost.currency)
    total = state.average_cost.amount * state.on_hand + unit_cost.amount * quantity
    average = (total / (state.on_hand + quantity)).quantize(COST_PLACES)
    return Money(average, unit_cost.currency)


@singledispatch
def evolve(event: StockEvent, state: Stock) -> Stock:
    raise TypeError(f"stock cannot apply {type(event).__name__}")


@evolve.register(StockReceived)
@evolve.register(StockTransferredIn)
def _(event: StockReceived | StockTransferredIn, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        on_hand=state.on_hand + event.quantity,
        average_cost=_with_cost(state, event.quantity, event.unit_cost),
    )


@evolve.register
def _(event: StockAdjusted, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state, sku=event.sku, location=event.location, on_hand=state.on_hand + event.delta
    )


@evolve.register
def _(event: StockTransferredOut, state: Stock) -> Stock:
    return msgspec.structs.replace(state, on_hand=state.on_hand - event.quantity)


@evolve.register
def _(event: StockReserved, state: Stock) -> Stock:
    reservations = dict(state.reservations)
    reservations[event.order_id] = reservations.get(event.order_id, 0) + event.quantity
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        reserved=state.reserved + event.quantity,
        reservations=reservations,
    )


@evolve.register
def _(event: StockReservationReleased, state: Stock) -> Stock:
    reservations = dict(state.reservations)
    remaining = reservations.get(event.order_id, 0) - event.quantity
    if remaining > 0:
        reservations[event.order_id] = remaining
    else:
        reservations.pop(event.order_id, None)
    return msgspec.structs.replace(
        state, reserved=state.reserved - event.quantity, reservations=reservations
    )


def fold(events: list[StockEvent], state: Stock | None = None) -> Stock:
    current = state or Stock()
    for event in events:
        current = evolve(event, current)
    return current
