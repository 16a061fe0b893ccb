"""Order commands. Placing and cancelling also decide the stock events they cause, so the order
and every stock stream it touches are appended together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
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
    LineAllocation,
    LineQuantity,
    OrderAllocated,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderHeld,
    OrderLine,
    OrderLinesCancelled,
    OrderLinesEdited,
    OrderPlaced,
    OrderReleased,
    OrderReservationsExpired,
    OrderShipmentLinesDropped,
)
from domain.order.state import Order, OrderStatus
from domain.product.model import Product
from domain.shared.errors import DomainError, InvalidCommand
from domain.shared.money import Money
from domain.shipment.errors import OrderClosed, PickingStarted
from domain.shipment.events import (
    ShipmentCancelled,
    ShipmentEvent,
    ShipmentLine,
    ShipmentLinesDropped,
)
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
    customer_id: UUID | None = None


class Decision(msgspec.Struct, frozen=True):
    """Events for the order, each stock stream (keyed by sku, location) and each shipment."""

    order: list[OrderEvent]
    stock: dict[StockKey, list[StockEvent]]
    shipments: dict[UUID, list[ShipmentEvent]] = msgspec.field(default_factory=dict)


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

    lines = [
        _new_line(number, line, command.currency, products, f"lines[{number - 1}]")
        for number, line in enumerate(command.lines, start=1)
    ]
    plan, stock_events = _reserve(
        command.order_id,
        [LineRequest(line.line_no, line.sku, line.quantity) for line in lines],
        store=store,
        stock=stock,
        locations=locations,
        destination=command.shipping_address,
    )
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
        customer_id=command.customer_id,
    )
    return Decision(order=[placed, OrderAllocated(lines=plan)], stock=stock_events)


def _new_line(
    number: int,
    line: RequestedLine,
    currency: str,
    products: Mapping[str, Product],
    field: str,
) -> OrderLine:
    if line.quantity <= 0:
        raise InvalidCommand(
            f"line {number}: quantity must be positive, got {line.quantity}",
            field=f"{field}.quantity",
        )
    if line.sku not in products or not products[line.sku].exists:
        raise UnknownSku(f"line {number}: unknown SKU {line.sku!r}", field=f"{field}.sku")
    price = Money.of(line.unit_price, currency)
    if price.amount < 0:
        raise InvalidCommand(
            f"line {number}: unit price cannot be negative", field=f"{field}.unit_price"
        )
    discount = check_discount(line.discount, currency, f"{field}.discount")
    return OrderLine(number, line.sku, line.quantity, price, discount)


def _reserve(
    order_id: UUID,
    requests: Sequence[LineRequest],
    *,
    store: Store,
    stock: Mapping[StockKey, Stock],
    locations: Sequence[Location],
    destination: Address,
) -> tuple[list[LineAllocation], dict[StockKey, list[StockEvent]]]:
    """Allocates the requested units and reserves them; short units are backordered, or
    refused when the store takes no backorders."""
    available = {key: state.available for key, state in stock.items()}
    plan = allocate(requests, available, locations, destination)
    sku_of = {request.line_no: request.sku for request in requests}
    short: dict[str, int] = {}  # per SKU: two lines of one SKU add up
    for line_plan in plan:
        if line_plan.backordered:
            sku = sku_of[line_plan.line_no]
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
        sku = sku_of[line_plan.line_no]
        for allocation in line_plan.allocations:
            key = (sku, allocation.location)
            current = working.get(key, Stock(sku=sku, location=allocation.location))
            events = stock_rules.reserve(
                current,
                sku=sku,
                location=allocation.location,
                order_id=order_id,
                line_no=line_plan.line_no,
                quantity=allocation.quantity,
            )
            working[key] = fold_stock(list(events), current)
            stock_events.setdefault(key, []).extend(events)
    return plan, stock_events


class LineChange(msgspec.Struct, frozen=True):
    """A line's new quantity (ordered and not cancelled, shipped units included); 0 removes it."""

    line_no: int
    quantity: int


def edit(
    order: Order,
    *,
    changes: Sequence[LineChange],
    added: Sequence[RequestedLine],
    store: Store,
    products: Mapping[str, Product],
    stock: Mapping[StockKey, Stock],
    locations: Sequence[Location],
    now: datetime,
) -> Decision:
    """Changes quantities, removes and adds lines of an order whose lines are not being picked.

    Fewer units are a cancel of the difference (backorder first, then free reservations, then
    open shipments); more units and new lines are allocated and reserved like a placement, after
    the released units are back, so an edit can move units between lines of one SKU.
    """
    _refuse_if_cancelled(order)
    order_id = _order_id(order)
    assert order.shipping_address is not None
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise OrderClosed(f"order {order_id} is {order.status}; place a new order instead")
    if not changes and not added:
        raise InvalidCommand("change, remove or add at least one line", field="lines")
    if len(order.lines) + len(added) > MAX_LINES:
        raise InvalidCommand(f"an order has at most {MAX_LINES} lines", field="add")
    fewer: dict[int, int] = {}
    more: list[LineQuantity] = []
    for index, change in enumerate(changes):
        field = f"lines[{index}]"
        line = order.lines.get(change.line_no)
        if line is None:
            raise UnknownLine(f"order has no line {change.line_no}", field=f"{field}.line_no")
        if change.line_no in fewer or any(m.line_no == change.line_no for m in more):
            raise InvalidCommand(f"line {change.line_no} is named twice", field=f"{field}.line_no")
        if change.quantity < line.shipped:
            raise InvalidCommand(
                f"line {change.line_no}: {line.shipped} units already shipped; "
                f"the quantity cannot go below that (got {change.quantity})",
                field=f"{field}.quantity",
            )
        if change.quantity == line.open_quantity:
            continue
        if order.picking_started(change.line_no):
            raise PickingStarted(
                f"line {change.line_no} ({line.sku}) is being picked; it can no longer be edited",
                line_no=change.line_no,
            )
        if change.quantity < line.open_quantity:
            fewer[change.line_no] = line.open_quantity - change.quantity
        else:
            more.append(LineQuantity(change.line_no, change.quantity - line.open_quantity))
    first = max(order.lines, default=0) + 1
    new_lines = [
        _new_line(first + i, line, order.currency, products, f"add[{i}]")
        for i, line in enumerate(added)
    ]
    left = sum(line.open_quantity for line in order.lines.values()) - sum(fewer.values())
    if left + sum(m.quantity for m in more) + sum(line.quantity for line in new_lines) == 0:
        raise InvalidCommand("an edit cannot remove every unit; cancel the order", field="lines")

    decision = Decision(order=[], stock={})
    if fewer:
        decision = _take_out(order, stock=stock, reason="edit", wanted=fewer, now=now)
    if not more and not new_lines:
        return decision
    working = {
        key: fold_stock(list(decision.stock.get(key, [])), state) for key, state in stock.items()
    }
    requests = [LineRequest(m.line_no, order.lines[m.line_no].sku, m.quantity) for m in more]
    requests += [LineRequest(line.line_no, line.sku, line.quantity) for line in new_lines]
    plan, reserved = _reserve(
        order_id,
        requests,
        store=store,
        stock=working,
        locations=locations,
        destination=order.shipping_address,
    )
    # OrderAllocated sets a line's backorder: existing lines keep theirs and add the new one.
    plan = [
        msgspec.structs.replace(
            p,
            backordered=p.backordered
            + (order.lines[p.line_no].backordered if p.line_no in order.lines else 0),
        )
        for p in plan
    ]
    for key, events in reserved.items():
        decision.stock.setdefault(key, []).extend(events)
    decision.order.extend(
        [OrderLinesEdited(added=new_lines, increased=more), OrderAllocated(lines=plan)]
    )
    return decision


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
    now: datetime | None = None,
) -> Decision:
    """Cancels the given quantities per line number (every unshipped unit when `lines` is None).

    A cancelled quantity drops the line's backorder first, then reservations in no shipment,
    then units of shipments whose picking has not started (they leave the shipment, which is
    cancelled when nothing is left in it). A line being picked cannot be cancelled.
    """
    _refuse_if_cancelled(order)
    if not reason.strip():
        raise InvalidCommand("a cancellation needs a reason", field="reason")
    wanted = (
        dict(lines)
        if lines is not None
        else {no: line.unshipped for no, line in order.lines.items() if line.unshipped > 0}
    )
    if not wanted:
        raise InvalidCommand("name at least one line to cancel", field="lines")
    decision = _take_out(order, stock=stock, reason=reason, wanted=wanted, now=now)
    remaining = sum(line.unshipped for line in order.lines.values()) - sum(wanted.values())
    if remaining == 0 and not any(line.shipped for line in order.lines.values()):
        decision.order.append(OrderCancelled(reason=reason))
    return decision


def _take_out(
    order: Order,
    *,
    stock: Mapping[StockKey, Stock],
    reason: str,
    wanted: Mapping[int, int],
    now: datetime | None,
) -> Decision:
    """Cancels quantities of lines: backorders, then free reservations, then open shipments."""
    cancelled: list[CancelledLine] = []
    stock_events: dict[StockKey, list[StockEvent]] = {}
    dropped: dict[UUID, list[LineQuantity]] = {}
    for line_no, quantity in sorted(wanted.items()):
        line = order.lines.get(line_no)
        if line is None:
            raise UnknownLine(f"order has no line {line_no}", field="lines")
        if quantity <= 0 or quantity > line.unshipped:
            raise InvalidCommand(
                f"line {line_no}: can cancel 1 to {line.unshipped}, not {quantity}",
                field="lines",
            )
        if order.picking_started(line_no):
            raise PickingStarted(
                f"line {line_no} ({line.sku}) is being picked; it can no longer be cancelled. "
                "Ship it and take a return, or report it short when picking",
                line_no=line_no,
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
                    line_no=line_no,
                    quantity=take,
                    reason=reason,
                )
            )
            released.append(Allocation(location, take))
            to_release -= take
            # Units beyond what no shipment holds come out of open shipments, newest first.
            spill = take - max(order.unassigned(line_no, location), 0)
            for shipment_id, ref in reversed(list(order.shipments.items())):
                if spill <= 0:
                    break
                if ref.location != location or not ref.unshipped:
                    continue
                out = min(ref.lines.get(line_no, 0), spill)
                if out:
                    dropped.setdefault(shipment_id, []).append(LineQuantity(line_no, out))
                    spill -= out
        cancelled.append(CancelledLine(line_no, quantity, released, backorder_dropped))

    events: list[OrderEvent] = [OrderLinesCancelled(lines=cancelled, reason=reason)]
    at = now or datetime.now(UTC)
    shipment_events: dict[UUID, list[ShipmentEvent]] = {}
    for shipment_id, out_lines in dropped.items():
        events.append(OrderShipmentLinesDropped(shipment_id=shipment_id, lines=out_lines))
        ref = order.shipments[shipment_id]
        skus = {no: order.lines[no].sku for no in ref.lines}
        shipment_events[shipment_id] = [
            ShipmentLinesDropped(
                lines=[ShipmentLine(q.line_no, skus[q.line_no], q.quantity) for q in out_lines],
                reason=reason,
                dropped_at=at,
            )
        ]
        if sum(q.quantity for q in out_lines) >= sum(ref.lines.values()):
            shipment_events[shipment_id].append(ShipmentCancelled(reason=reason, cancelled_at=at))
    return Decision(order=events, stock=stock_events, shipments=shipment_events)


def _order_id(order: Order) -> UUID:
    assert order.id is not None
    return order.id


def _refuse_if_cancelled(order: Order) -> None:
    if not order.exists:
        raise OrderNotFound("no such order")
    if order.status is OrderStatus.CANCELLED:
        raise OrderAlreadyCancelled(f"order {order.id} is cancelled")
    if order.status is OrderStatus.EXPIRED:
        raise OrderAlreadyCancelled(f"order {order.id} expired unconfirmed; its stock is released")


def confirm(order: Order, *, now: datetime) -> list[OrderEvent]:
    """Confirmed (paid) orders keep their reservations past the store's TTL. Idempotent."""
    _refuse_if_cancelled(order)
    if order.confirmed_at is not None:
        return []
    return [OrderConfirmed(confirmed_at=now)]


def expire(
    order: Order,
    *,
    stock: Mapping[StockKey, Stock],
    ttl: timedelta | None,
    now: datetime,
) -> Decision:
    """Releases every reservation of an order left unconfirmed past its store's TTL.

    Decides nothing when the order is not (or no longer) due: no TTL, confirmed, closed, being
    picked or partly shipped. That makes the process manager safe to run any number of times.
    """
    due = (
        ttl is not None
        and order.exists
        and order.placed_at is not None
        and order.confirmed_at is None
        and order.status in (OrderStatus.PLACED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED)
        and now >= order.placed_at + ttl
    )
    if not due:
        return Decision(order=[], stock={})
    order_id = _order_id(order)
    stock_events: dict[StockKey, list[StockEvent]] = {}
    released_lines: list[CancelledLine] = []
    for line_no, line in sorted(order.lines.items()):
        released: list[Allocation] = []
        for location, held in line.allocations.items():
            key = (line.sku, location)
            state = stock.get(key, Stock(sku=line.sku, location=location))
            ended = [
                e for e in stock_rules.expire(state, order_id=order_id) if e.line_no in (line_no, 0)
            ]
            if ended:
                stock_events.setdefault(key, []).extend(ended)
            released.append(Allocation(location, held))
        released_lines.append(
            CancelledLine(line_no, line.unshipped, released, backorder_dropped=line.backordered)
        )
    shipment_events: dict[UUID, list[ShipmentEvent]] = {
        sid: [ShipmentCancelled(reason="reservation expired", cancelled_at=now)]
        for sid, ref in order.shipments.items()
        if ref.unshipped
    }
    expired = OrderReservationsExpired(lines=released_lines, expired_at=now)
    return Decision(order=[expired], stock=_dedupe(stock_events), shipments=shipment_events)


def _dedupe(events: dict[StockKey, list[StockEvent]]) -> dict[StockKey, list[StockEvent]]:
    """One SKU on two lines expires the same hold list twice; keep each event once."""
    return {key: list(dict.fromkeys(items)) for key, items in events.items()}
