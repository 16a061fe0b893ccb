"""Stock commands: each function takes the current state and returns the events it decides."""

from __future__ import annotations

from uuid import UUID

from domain.shared.errors import InvalidCommand
from domain.shared.money import Money
from domain.stock.errors import BelowReserved, InsufficientStock, NoSuchReservation
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
from domain.stock.state import Stock, fold


def _positive(quantity: int, what: str = "quantity") -> None:
    if quantity <= 0:
        raise InvalidCommand(f"{what} must be a positive whole number, got {quantity}")


def receive(
    state: Stock,
    *,
    sku: str,
    location: str,
    quantity: int,
    unit_cost: Money | None = None,
    reference: str | None = None,
) -> list[StockReceived]:
    _positive(quantity)
    if unit_cost is not None and unit_cost.amount < 0:
        raise InvalidCommand("unit cost cannot be negative")
    if (
        unit_cost is not None
        and state.average_cost is not None
        and state.on_hand > 0
        and unit_cost.currency != state.average_cost.currency
    ):
        raise InvalidCommand(
            f"{sku} at {location} is costed in {state.average_cost.currency}, "
            f"not {unit_cost.currency}"
        )
    return [
        StockReceived(
            sku=sku, location=location, quantity=quantity, unit_cost=unit_cost, reference=reference
        )
    ]


def adjust(
    state: Stock,
    *,
    sku: str,
    location: str,
    reason: str,
    counted: int | None = None,
    delta: int | None = None,
) -> list[StockAdjusted]:
    """A cycle count (`counted`) or a correction (`delta`); exactly one of them."""
    if (counted is None) == (delta is None):
        raise InvalidCommand("give exactly one of counted or delta")
    if not reason.strip():
        raise InvalidCommand("an adjustment needs a reason")
    if counted is not None:
        if counted < 0:
            raise InvalidCommand(f"counted cannot be negative, got {counted}")
        change = counted - state.on_hand
    else:
        assert delta is not None
        if delta == 0:
            raise InvalidCommand("delta must not be zero")
        change = delta
    new_on_hand = state.on_hand + change
    if new_on_hand < 0:
        raise InsufficientStock(
            f"{sku} at {location}: on hand {state.on_hand} cannot drop by {-change}",
            sku=sku,
            location=location,
        )
    if new_on_hand < state.reserved:
        raise BelowReserved(
            f"{sku} at {location}: on hand would be {new_on_hand}, below the {state.reserved} "
            "reserved for orders; release or cancel those reservations first",
            sku=sku,
            location=location,
        )
    return [StockAdjusted(sku=sku, location=location, delta=change, counted=counted, reason=reason)]


def transfer(
    source: Stock,
    *,
    sku: str,
    from_location: str,
    to_location: str,
    quantity: int,
    transfer_id: UUID,
) -> tuple[list[StockTransferredOut], list[StockTransferredIn]]:
    """Moves available units; the two streams are appended atomically."""
    _positive(quantity)
    if from_location == to_location:
        raise InvalidCommand("a transfer needs two different locations")
    if quantity > source.available:
        raise InsufficientStock(
            f"{sku} at {from_location}: only {source.available} available, cannot move {quantity}",
            sku=sku,
            location=from_location,
            available=source.available,
        )
    out = StockTransferredOut(
        sku=sku,
        location=from_location,
        transfer_id=transfer_id,
        to_location=to_location,
        quantity=quantity,
    )
    into = StockTransferredIn(
        sku=sku,
        location=to_location,
        transfer_id=transfer_id,
        from_location=from_location,
        quantity=quantity,
        unit_cost=source.average_cost,
    )
    return [out], [into]


def reserve(
    state: Stock, *, sku: str, location: str, order_id: UUID, quantity: int, line_no: int = 0
) -> list[StockReserved]:
    _positive(quantity)
    if quantity > state.available:
        raise InsufficientStock(
            f"{sku} at {location}: only {state.available} available, cannot reserve {quantity}",
            sku=sku,
            location=location,
            available=state.available,
        )
    return [
        StockReserved(
            sku=sku, location=location, order_id=order_id, line_no=line_no, quantity=quantity
        )
    ]


def _draw(
    state: Stock, order_id: UUID, line_no: int | None, quantity: int | None
) -> list[tuple[int, int]]:
    """Which holds give up `quantity` units (all of them when None), as (line_no, units).

    A line draws on its own hold first, then on the order-level hold (line 0) recorded before
    reservations had lines; without a line, every hold of the order is drawn in line order.
    """
    prefix = f"{order_id}/"
    lines = sorted(int(key[len(prefix) :]) for key in state.holds if key.startswith(prefix))
    if line_no is not None:
        lines = [no for no in dict.fromkeys((line_no, 0)) if no in lines]
    held = sum(state.held(order_id, no) for no in lines)
    if held == 0:
        where = f"order {order_id}" + (f" line {line_no}" if line_no is not None else "")
        raise NoSuchReservation(f"no reservation for {where} on {state.sku} at {state.location}")
    wanted = held if quantity is None else quantity
    _positive(wanted)
    if wanted > held:
        raise NoSuchReservation(
            f"order {order_id} holds {held} of {state.sku} at {state.location}, not {wanted}"
        )
    drawn: list[tuple[int, int]] = []
    for no in lines:
        take = min(state.held(order_id, no), wanted)
        if take:
            drawn.append((no, take))
            wanted -= take
    return drawn


def release(
    state: Stock,
    *,
    order_id: UUID,
    reason: str,
    quantity: int | None = None,
    line_no: int | None = None,
) -> list[StockReservationReleased]:
    """Releases reservations of an order (of one line when `line_no` is given), all of them
    unless `quantity` says otherwise."""
    return [
        StockReservationReleased(
            sku=state.sku,
            location=state.location,
            order_id=order_id,
            line_no=no,
            quantity=units,
            reason=reason,
        )
        for no, units in _draw(state, order_id, line_no, quantity)
    ]


def expire(state: Stock, *, order_id: UUID) -> list[StockReservationExpired]:
    """Ends every reservation the order still holds here because it was not confirmed in time."""
    prefix = f"{order_id}/"
    return [
        StockReservationExpired(
            sku=state.sku,
            location=state.location,
            order_id=order_id,
            line_no=int(key[len(prefix) :]),
            quantity=units,
        )
        for key, units in sorted(state.holds.items())
        if key.startswith(prefix)
    ]


def commit(
    state: Stock, *, order_id: UUID, line_no: int, shipment_id: UUID, quantity: int
) -> list[StockCommitted]:
    """Shipped units: the line's reservation ends and the units leave on-hand stock."""
    return [
        StockCommitted(
            sku=state.sku,
            location=state.location,
            order_id=order_id,
            line_no=no,
            shipment_id=shipment_id,
            quantity=units,
        )
        for no, units in _draw(state, order_id, line_no, quantity)
    ]


def restock(
    state: Stock, *, sku: str, location: str, return_id: UUID, quantity: int
) -> list[StockRestocked]:
    _positive(quantity)
    return [StockRestocked(sku=sku, location=location, return_id=return_id, quantity=quantity)]


def slot(state: Stock, *, sku: str, location: str, bin: str) -> list[StockSlotted]:
    if not bin.strip():
        raise InvalidCommand("a bin needs a name", field="bin")
    if state.bin == bin:
        return []
    return [StockSlotted(sku=sku, location=location, bin=bin)]


def set_policy(
    state: Stock, *, sku: str, location: str, reorder_point: int, safety_stock: int
) -> list[StockPolicySet]:
    if reorder_point < 0 or safety_stock < 0:
        raise InvalidCommand("reorder point and safety stock cannot be negative")
    if (state.reorder_point, state.safety_stock) == (reorder_point, safety_stock):
        return []
    return [
        StockPolicySet(
            sku=sku, location=location, reorder_point=reorder_point, safety_stock=safety_stock
        )
    ]


def flag_low_stock(before: Stock, events: list[StockEvent]) -> list[StockEvent]:
    """`events` plus a LowStock event when they take available to or below the reorder point."""
    if not events:
        return events
    after = fold(list(events), before)
    point = after.reorder_point
    if point > 0 and after.available <= point < before.available:
        low = LowStock(
            sku=after.sku, location=after.location, available=after.available, reorder_point=point
        )
        return [*events, low]
    return events
