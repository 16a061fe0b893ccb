"""Return commands: authorize an RMA for shipped units within the return window; receive it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from domain.order.errors import OrderNotFound
from domain.order.events import LineQuantity, OrderEvent, OrderReturnAuthorized
from domain.order.state import Order
from domain.returns.events import (
    ReceivedLine,
    ReturnAuthorized,
    ReturnEvent,
    ReturnLine,
    ReturnReceived,
)
from domain.returns.reasons import CONDITIONS, REASONS, category_of
from domain.returns.state import Return
from domain.shared.errors import DomainError, InvalidCommand, NotFound
from domain.stock import decide as stock_rules
from domain.stock.events import StockAdjusted, StockEvent
from domain.stock.state import Stock

StockKey = tuple[str, str]


class ReturnNotFound(NotFound):
    code = "return_not_found"


class NotShipped(DomainError):
    """Only shipped units, not yet returned, can be returned."""

    code = "not_returnable"


class ReturnWindowClosed(DomainError):
    code = "return_window_closed"


class AlreadyReceived(DomainError):
    code = "return_already_received"


class ReceiptMismatch(InvalidCommand):
    code = "return_receipt_mismatch"


class RequestedReturn(msgspec.Struct, frozen=True):
    sku: str
    quantity: int
    reason: str


class ReceivedUnits(msgspec.Struct, frozen=True):
    sku: str
    quantity: int
    condition: str


def authorize(
    order: Order,
    *,
    return_id: UUID,
    lines: Sequence[RequestedReturn],
    window: timedelta,
    now: datetime,
) -> tuple[list[OrderEvent], list[ReturnEvent]]:
    """Units of a SKU are matched to the order's lines in line order, each up to what it shipped
    and has not yet had returned. The window runs from delivery (or shipping, if undelivered)."""
    if not order.exists:
        raise OrderNotFound("no such order")
    assert order.id is not None
    if not lines:
        raise InvalidCommand("a return needs at least one line", field="lines")
    started = order.delivered_at or order.shipped_at
    if started is None:
        raise NotShipped(f"nothing of order {order.id} has shipped yet")
    if now > started + window:
        raise ReturnWindowClosed(
            f"the {window.days}-day return window of order {order.id} closed on "
            f"{(started + window).date().isoformat()}"
        )
    returnable = {no: line.shipped - line.returned for no, line in order.lines.items()}
    matched: list[ReturnLine] = []
    for index, wanted in enumerate(lines):
        if wanted.reason not in REASONS:
            raise InvalidCommand(
                f"lines[{index}]: reason must be one of {', '.join(REASONS)}",
                field=f"lines[{index}].reason",
            )
        if wanted.quantity <= 0:
            raise InvalidCommand("quantity must be positive", field=f"lines[{index}].quantity")
        need = wanted.quantity
        for no, line in sorted(order.lines.items()):
            if line.sku != wanted.sku or need == 0:
                continue
            take = min(returnable[no], need)
            if take > 0:
                matched.append(
                    ReturnLine(
                        line_no=no,
                        sku=line.sku,
                        quantity=take,
                        reason=wanted.reason,
                        category=category_of(wanted.reason),
                    )
                )
                returnable[no] -= take
                need -= take
        if need:
            raise NotShipped(
                f"{wanted.sku}: {wanted.quantity - need} shipped unit(s) can still be returned, "
                f"not {wanted.quantity}",
                sku=wanted.sku,
            )
    per_line: dict[int, int] = {}
    for item in matched:
        per_line[item.line_no] = per_line.get(item.line_no, 0) + item.quantity
    order_event = OrderReturnAuthorized(
        return_id=return_id, lines=[LineQuantity(no, qty) for no, qty in sorted(per_line.items())]
    )
    authorized = ReturnAuthorized(
        return_id=return_id, order_id=order.id, store=order.store, lines=matched, authorized_at=now
    )
    return [order_event], [authorized]


def receive(
    rma: Return,
    *,
    location: str,
    lines: Sequence[ReceivedUnits],
    stock: Mapping[StockKey, Stock],
    now: datetime,
) -> tuple[list[ReturnEvent], dict[StockKey, list[StockEvent]]]:
    """Sellable units are restocked; damaged ones come back and are written off by an
    adjustment, so the ledger shows both."""
    if not rma.exists:
        raise ReturnNotFound("no such return")
    assert rma.id is not None
    if rma.received_at is not None:
        raise AlreadyReceived(f"return {rma.id} was received on {rma.received_at.isoformat()}")
    if not lines:
        raise InvalidCommand("report at least one received line", field="lines")
    expected = rma.expected()
    got: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.condition not in CONDITIONS:
            raise InvalidCommand(
                f"condition must be one of {', '.join(CONDITIONS)}",
                field=f"lines[{index}].condition",
            )
        if line.quantity <= 0:
            raise InvalidCommand("quantity must be positive", field=f"lines[{index}].quantity")
        got[line.sku] = got.get(line.sku, 0) + line.quantity
    for sku, quantity in got.items():
        if quantity > expected.get(sku, 0):
            raise ReceiptMismatch(
                f"return {rma.id} expects {expected.get(sku, 0)} of {sku}, not {quantity}",
                field="lines",
            )
    events: dict[StockKey, list[StockEvent]] = {}
    for line in lines:
        key = (line.sku, location)
        current = stock.get(key, Stock(sku=line.sku, location=location))
        new: list[StockEvent] = list(
            stock_rules.restock(
                current, sku=line.sku, location=location, return_id=rma.id, quantity=line.quantity
            )
        )
        if line.condition == "damaged":
            new.append(
                StockAdjusted(
                    sku=line.sku,
                    location=location,
                    delta=-line.quantity,
                    counted=None,
                    reason=f"damaged on return {rma.id}",
                )
            )
        events.setdefault(key, []).extend(new)
    received = ReturnReceived(
        location=location,
        lines=[ReceivedLine(sku=x.sku, quantity=x.quantity, condition=x.condition) for x in lines],
        received_at=now,
    )
    return [received], events
