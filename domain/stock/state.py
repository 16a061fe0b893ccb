"""Stock state and its evolve function. Invariant: 0 <= reserved <= on_hand.

`holds` maps a reservation (order id and line number, see `hold_key`) to the units it still
holds; the counters beside on_hand are the ledger it is the sum of.
"""

from __future__ import annotations

from decimal import Decimal
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.shared.money import Money
from domain.stock.events import (
    LowStock,
    StockAdjusted,
    StockCommitted,
    StockEvent,
    StockPolicySet,
    StockReceived,
    StockReservationExpired,
    StockReservationReleased,
    StockReserved,
    StockRestocked,
    StockSlotted,
    StockTransferredIn,
    StockTransferredOut,
)

COST_PLACES = Decimal("0.0001")


def hold_key(order_id: UUID, line_no: int) -> str:
    return f"{order_id}/{line_no}"


# forbid_unknown_fields: a snapshot of the older shape (per-order `reservations`) must fail to
# decode, so that the stream is replayed instead of loading without its holds.
class Stock(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: str = ""
    location: str = ""
    on_hand: int = 0
    reserved: int = 0
    holds: dict[str, int] = msgspec.field(default_factory=dict)
    average_cost: Money | None = None
    bin: str | None = None
    reorder_point: int = 0
    safety_stock: int = 0
    received: int = 0
    adjusted: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    shipped: int = 0
    restocked: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.safety_stock

    @property
    def reservations(self) -> dict[UUID, int]:
        """Units held per order (all its lines together)."""
        per_order: dict[UUID, int] = {}
        for key, quantity in self.holds.items():
            order_id = UUID(key.partition("/")[0])
            per_order[order_id] = per_order.get(order_id, 0) + quantity
        return per_order

    def reserved_for(self, order_id: UUID) -> int:
        prefix = f"{order_id}/"
        return sum(qty for key, qty in self.holds.items() if key.startswith(prefix))

    def held(self, order_id: UUID, line_no: int) -> int:
        return self.holds.get(hold_key(order_id, line_no), 0)


def _with_cost(state: Stock, quantity: int, unit_cost: Money | None) -> Money | None:
    """Moving-average unit cost over what is on hand (stays put when a receipt has no cost)."""
    if unit_cost is None:
        return state.average_cost
    if state.average_cost is None or state.on_hand <= 0:
        return Money(unit_cost.amount.quantize(COST_PLACES), unit_cost.currency)
    total = state.average_cost.amount * state.on_hand + unit_cost.amount * quantity
    average = (total / (state.on_hand + quantity)).quantize(COST_PLACES)
    return Money(average, unit_cost.currency)


def _end(state: Stock, order_id: UUID, line_no: int, quantity: int) -> dict[str, int]:
    holds = dict(state.holds)
    key = hold_key(order_id, line_no)
    remaining = holds.get(key, 0) - quantity
    if remaining > 0:
        holds[key] = remaining
    else:
        holds.pop(key, None)
    return holds


@singledispatch
def evolve(event: StockEvent, state: Stock) -> Stock:
    raise TypeError(f"stock cannot apply {type(event).__name__}")


@evolve.register
def _(event: StockReceived, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        on_hand=state.on_hand + event.quantity,
        average_cost=_with_cost(state, event.quantity, event.unit_cost),
        received=state.received + event.quantity,
    )


@evolve.register
def _(event: StockTransferredIn, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        on_hand=state.on_hand + event.quantity,
        average_cost=_with_cost(state, event.quantity, event.unit_cost),
        transferred_in=state.transferred_in + event.quantity,
    )


@evolve.register
def _(event: StockAdjusted, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        on_hand=state.on_hand + event.delta,
        adjusted=state.adjusted + event.delta,
    )


@evolve.register
def _(event: StockTransferredOut, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        on_hand=state.on_hand - event.quantity,
        transferred_out=state.transferred_out + event.quantity,
    )


@evolve.register
def _(event: StockReserved, state: Stock) -> Stock:
    holds = dict(state.holds)
    key = hold_key(event.order_id, event.line_no)
    holds[key] = holds.get(key, 0) + event.quantity
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        reserved=state.reserved + event.quantity,
        holds=holds,
    )


@evolve.register(StockReservationReleased)
@evolve.register(StockReservationExpired)
def _(event: StockReservationReleased | StockReservationExpired, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        reserved=state.reserved - event.quantity,
        holds=_end(state, event.order_id, event.line_no, event.quantity),
    )


@evolve.register
def _(event: StockCommitted, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        on_hand=state.on_hand - event.quantity,
        reserved=state.reserved - event.quantity,
        holds=_end(state, event.order_id, event.line_no, event.quantity),
        shipped=state.shipped + event.quantity,
    )


@evolve.register
def _(event: StockRestocked, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        on_hand=state.on_hand + event.quantity,
        restocked=state.restocked + event.quantity,
    )


@evolve.register
def _(event: StockSlotted, state: Stock) -> Stock:
    return msgspec.structs.replace(state, sku=event.sku, location=event.location, bin=event.bin)


@evolve.register
def _(event: StockPolicySet, state: Stock) -> Stock:
    return msgspec.structs.replace(
        state,
        sku=event.sku,
        location=event.location,
        reorder_point=event.reorder_point,
        safety_stock=event.safety_stock,
    )


@evolve.register
def _(event: LowStock, state: Stock) -> Stock:
    return state


def fold(events: list[StockEvent], state: Stock | None = None) -> Stock:
    current = state or Stock()
    for event in events:
        current = evolve(event, current)
    return current
