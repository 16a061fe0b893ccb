"""Stock commands: each function takes the current state and returns the events it decides."""

from __future__ import annotations

from uuid import UUID

from domain.shared.errors import InvalidCommand
from domain.shared.money import Money
from domain.stock.errors import BelowReserved, InsufficientStock, NoSuchReservation
from domain.stock.events import (
    StockAdjusted,
    StockReceived,
    StockReservationReleased,
    StockReserved,
    StockTransferredIn,
    StockTransferredOut,
)
from domain.stock.state import Stock


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
    state: Stock, *, sku: str, location: str, order_id: UUID, quantity: int
) -> list[StockReserved]:
    _positive(quantity)
    if quantity > state.available:
        raise InsufficientStock(
            f"{sku} at {location}: only {state.available} available, cannot reserve {quantity}",
            sku=sku,
            location=location,
            available=state.available,
        )
    return [StockReserved(sku=sku, location=location, order_id=order_id, quantity=quantity)]


def release(
    state: Stock, *, order_id: UUID, reason: str, quantity: int | None = None
) -> list[StockReservationReleased]:
    """Releases an order's reservation here, all of it unless `quantity` says otherwise."""
    held = state.reserved_for(order_id)
    if held == 0:
        raise NoSuchReservation(
            f"no reservation for order {order_id} on {state.sku} at {state.location}"
        )
    amount = held if quantity is None else quantity
    _positive(amount)
    if amount > held:
        raise NoSuchReservation(
            f"order {order_id} holds {held} of {state.sku} at {state.location}, not {amount}"
        )
    return [
        StockReservationReleased(
            sku=state.sku,
            location=state.location,
            order_id=order_id,
            quantity=amount,
            reason=reason,
        )
    ]
