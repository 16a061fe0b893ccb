"""Order commands. Placing and cancelling also decide the stock events they cause, so the order
and every stock stream it touches are appended together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from domain.location.model import Location
from domain.order.allocation import LineRequest, allocate
from domain.order.discounts import check_discount, check_shipping
from domain.order.errors import (
    OrderAlreadyCancelled,
    OrderAlreadyHeld,
    OrderNotFound,
    OrderNotHeld,
    UnknownLine,
    UnknownSku,
    UnknownStore,
)
from domain.order.events import (
    Address,
    Allocation,
    CancelledLine,
    Customer,
    Discount,
    OrderAllocated,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderLine,
    OrderLinesCancelled,
    OrderPlaced,
    OrderReleased,
)
from domain.order.state import Order, OrderStatus
from domain.product.model import Product
from domain.shared.errors import DomainError, InvalidCommand
from domain.shared.money import Money
from domain.stock import decide as stock_rules
from domain.stock.errors import InsufficientStock
from domain.stock.events import StockEvent
from domain.stock.state import Stock
from domain.stock.state import fold as fold_stock
from domain.store.model import Store

StockKey = tuple[str, str]  # (sku, location code)
MAX_LINES = 500


class RequestedLine(msgspec.Struct, frozen=True):
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Discount | None = None


class PlaceOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    store: str
    channel: str
    external_id: str | None
    currency: str
    customer: Customer
    shipping_address: Address
    lines: list[RequestedLine]
    placed_at: datetime
    discount: Discount | None = None
    shipping_charge: Decimal | None = None


class Decision(msgspec.Struct, frozen=True):
    """Events for the order and for each stock stream (keyed by sku, location)."""

    order: list[OrderEvent]
    stock: dict[StockKey, list[StockEvent]]


class AlreadyPlaced(DomainError):
    code = "order_exists"


def place(
    order: Order,
    command: PlaceOrder,
    *,
    store: Store,
    products: Mapping[str, Product],
    stock: Mapping[StockKey, Stock],
    locations: Sequence[Location],
) -> Decision:
    if order.exists:
        raise AlreadyPlaced(f"order {command.order_id} already exists")
    if not store.exists:
        raise UnknownStore(f"store {command.store!r} does not exist", field="store")
    if command.currency != store.currency:
        raise InvalidCommand(
            f"store {store.code!r} sells in {store.currency}, not {command.currency}",
            field="currency",
        )
    if not command.lines:
        raise InvalidCommand("an order needs at least one line", field="lines")
    if len(command.lines) > MAX_LINES:
        raise InvalidCommand(f"an order has at most {MAX_LINES} lines", field="lines")

    lines: list[OrderLine] = []
    for number, line in enumerate(command.lines, start=1):
        if line.quantity <= 0:
            raise InvalidCommand(
                f"line {number}: quantity must be positive, got {line.quantity}",
                field=f"lines[{number - 1}].quantity",
            )
        if line.sku not in products or not products[line.sku].exists:
            raise UnknownSku(
                f"line {number}: unknown SKU {line.sku!r}", field=f"lines[{number - 1}].sku"
            )
        price = Money.of(line.unit_price, command.currency)
        if price.amount < 0:
            raise InvalidCommand(
                f"line {number}: unit price cannot be negative",
                field=f"lines[{number - 1}].unit_price",
            )
        discount = check_discount(line.discount, command.currency, f"lines[{number - 1}].discount")
        lines.append(OrderLine(number, line.sku, line.quantity, price, discount))

    available = {key: state.available for key, state in stock.items()}
    plan = allocate(
        [LineRequest(line.line_no, line.sku, line.quantity) for line in lines],
        available,
        locations,
        command.shipping_address,
    )
    short: dict[str, int] = {}  # per SKU: two lines of one SKU add up
    for line_plan in plan:
        if line_plan.backordered:
            sku = lines[line_plan.line_no - 1].sku
            short[sku] = short.get(sku, 0) + line_plan.backordered
    if short and not store.allow_backorders:
        skus = ", ".join(f"{sku} (short {qty})" for sku, qty in short.items())
        raise InsufficientStock(
            f"not enough stock for {skus}; store {store.code!r} does not take backorders",
            short=short,
        )

    stock_events: dict[StockKey, list[StockEvent]] = {}
    working = dict(stock)
    for line_plan in plan:
        sku = lines[line_plan.line_no - 1].sku
        for allocation in line_plan.allocations:
            key = (sku, allocation.location)
            current = working.get(key, Stock(sku=sku, location=allocation.location))
            events = stock_rules.reserve(
                current,
                sku=sku,
                location=allocation.location,
                order_id=command.order_id,
                quantity=allocation.quantity,
            )
            working[key] = fold_stock(list(events), current)
            stock_events.setdefault(key, []).extend(events)

    placed = OrderPlaced(
        order_id=command.order_id,
        store=command.store,
        channel=command.channel,
        external_id=command.external_id,
        currency=command.currency,
        customer=command.customer,
        shipping_address=command.shipping_address,
        lines=lines,
        placed_at=command.placed_at,
        discount=check_discount(command.discount, command.currency, "discount"),
        shipping_charge=check_shipping(command.shipping_charge, command.currency),
    )
    return Decision(order=[placed, OrderAllocated(lines=plan)], stock=stock_events)


def hold(order: Order, *, reason: str) -> list[OrderEvent]:
    _refuse_if_cancelled(order)
    if order.on_hold:
        raise OrderAlreadyHeld(f"order {order.id} is already on hold ({order.hold_reason})")
    if not reason.strip():
        raise InvalidCommand("a hold needs a reason", field="reason")
    return [OrderHeld(reason=reason)]


def release(order: Order) -> list[OrderEvent]:
    _refuse_if_cancelled(order)
    if not order.on_hold:
        raise OrderNotHeld(f"order {order.id} is not on hold")
    return [OrderReleased()]


def cancel(
    order: Order,
    *,
    stock: Mapping[StockKey, Stock],
    reason: str,
    lines: Mapping[int, int] | None = None,
) -> Decision:
    """Cancels the given quantities per line number (all open quantities when `lines` is None).

    A cancelled quantity drops the line's backorder first, then its reservations, the most
    recently chosen location first. Nothing has shipped yet at this stage of the lifecycle.
    """
    _refuse_if_cancelled(order)
    if not reason.strip():
        raise InvalidCommand("a cancellation needs a reason", field="reason")
    wanted = (
        dict(lines)
        if lines is not None
        else {no: line.open_quantity for no, line in order.lines.items() if line.open_quantity > 0}
    )
    if not wanted:
        raise InvalidCommand("name at least one line to cancel", field="lines")

    cancelled: list[CancelledLine] = []
    stock_events: dict[StockKey, list[StockEvent]] = {}
    for line_no, quantity in sorted(wanted.items()):
        line = order.lines.get(line_no)
        if line is None:
            raise UnknownLine(f"order has no line {line_no}", field="lines")
        if quantity <= 0 or quantity > line.open_quantity:
            raise InvalidCommand(
                f"line {line_no}: can cancel 1 to {line.open_quantity}, not {quantity}",
                field="lines",
            )
        backorder_dropped = min(line.backordered, quantity)
        to_release = quantity - backorder_dropped
        released: list[Allocation] = []
        for location, held in reversed(list(line.allocations.items())):
            if to_release == 0:
                break
            take = min(held, to_release)
            key = (line.sku, location)
            stock_events.setdefault(key, []).extend(
                stock_rules.release(
                    stock.get(key, Stock(sku=line.sku, location=location)),
                    order_id=_order_id(order),
                    quantity=take,
                    reason=reason,
                )
            )
            released.append(Allocation(location, take))
            to_release -= take
        cancelled.append(CancelledLine(line_no, quantity, released, backorder_dropped))

    events: list[OrderEvent] = [OrderLinesCancelled(lines=cancelled, reason=reason)]
    remaining = sum(line.open_quantity for line in order.lines.values()) - sum(wanted.values())
    if remaining == 0:
        events.append(OrderCancelled(reason=reason))
    return Decision(order=events, stock=stock_events)


def _order_id(order: Order) -> UUID:
    assert order.id is not None
    return order.id


def _refuse_if_cancelled(order: Order) -> None:
    if not order.exists:
        raise OrderNotFound("no such order")
    if order.status is OrderStatus.CANCELLED:
        raise OrderAlreadyCancelled(f"order {order.id} is cancelled")
