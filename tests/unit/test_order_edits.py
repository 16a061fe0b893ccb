"""Editing an order's lines before picking: given past events / when an edit / then the events
(or a refusal). The order is 3 A (line 1) + 2 B (line 2), reserved at BER."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.order import decide as order_decide
from domain.order.decide import Decision, LineChange, RequestedLine
from domain.order.errors import UnknownLine, UnknownSku
from domain.order.events import (
    Allocation,
    CancelledLine,
    LineAllocation,
    LineQuantity,
    OrderAllocated,
    OrderLine,
    OrderLinesCancelled,
    OrderLinesEdited,
    OrderLinesShipped,
    OrderPickingStarted,
    OrderShipmentLinesDropped,
)
from domain.order.state import OrderStatus
from domain.order.state import fold as fold_order
from domain.product.model import Dimensions, Product
from domain.shared.errors import InvalidCommand
from domain.shared.money import Money
from domain.shipment.errors import OrderClosed, PickingStarted
from domain.shipment.events import ShipmentLine, ShipmentLinesDropped
from domain.stock.errors import InsufficientStock
from domain.stock.events import StockReservationReleased, StockReserved
from domain.store.model import Store
from tests.support.gwt import given
from tests.unit.fulfilment_fixtures import (
    BERLIN,
    MUNICH,
    NOW,
    ORDER,
    SHIPMENT,
    order,
    order_shipped,
    planned,
    stock,
)

PRODUCTS = {
    sku: Product(sku=sku, name=sku, dimensions=Dimensions(1, 1, 1), exists=True)
    for sku in ("A", "B", "C")
}
STORE = Store(code="web", currency="EUR", exists=True)


def levels(a_at_ber: int = 10, a_at_muc: int = 0, c_at_ber: int = 10):
    return {
        ("A", "BER"): stock("A", on_hand=a_at_ber, holds={1: 3}),
        ("A", "MUC"): stock("A", "MUC", on_hand=a_at_muc),
        ("B", "BER"): stock("B", holds={2: 2}),
        ("C", "BER"): stock("C", on_hand=c_at_ber),
    }


def edit(
    *changes: tuple[int, int],
    add: tuple[RequestedLine, ...] = (),
    store: Store = STORE,
    **stock_levels: int,
):
    return lambda state: order_decide.edit(
        state,
        changes=[LineChange(no, qty) for no, qty in changes],
        added=list(add),
        store=store,
        products=PRODUCTS,
        stock=levels(**stock_levels),
        locations=[BERLIN, MUNICH],
        now=NOW,
    )


def reserved(sku: str, line_no: int, quantity: int, location: str = "BER") -> StockReserved:
    return StockReserved(
        sku=sku, location=location, order_id=ORDER, line_no=line_no, quantity=quantity
    )


def test_raising_a_quantity_reserves_the_extra_units() -> None:
    given([], lambda _: order()).when(edit((1, 5))).then(
        Decision(
            order=[
                OrderLinesEdited(added=[], increased=[LineQuantity(1, 2)]),
                OrderAllocated(lines=[LineAllocation(1, [Allocation("BER", 2)], 0)]),
            ],
            stock={("A", "BER"): [reserved("A", 1, 2)]},
        )
    )


def test_lowering_a_quantity_releases_units_and_drops_them_from_the_open_shipment() -> None:
    given([], lambda _: order(planned())).when(edit((2, 1))).then(
        Decision(
            order=[
                OrderLinesCancelled(
                    lines=[CancelledLine(2, 1, [Allocation("BER", 1)], 0)], reason="edit"
                ),
                OrderShipmentLinesDropped(shipment_id=SHIPMENT, lines=[LineQuantity(2, 1)]),
            ],
            stock={
                ("B", "BER"): [
                    StockReservationReleased(
                        sku="B",
                        location="BER",
                        order_id=ORDER,
                        line_no=2,
                        quantity=1,
                        reason="edit",
                    )
                ]
            },
            shipments={
                SHIPMENT: [
                    ShipmentLinesDropped(
                        lines=[ShipmentLine(2, "B", 1)], reason="edit", dropped_at=NOW
                    )
                ]
            },
        )
    )


def test_adding_a_line_numbers_it_after_the_last_and_reserves_it() -> None:
    decision = edit(add=(RequestedLine("C", 4, Decimal("2.50")),))(order())
    assert decision.order == [
        OrderLinesEdited(added=[OrderLine(3, "C", 4, Money.of("2.50", "EUR"))], increased=[]),
        OrderAllocated(lines=[LineAllocation(3, [Allocation("BER", 4)], 0)]),
    ]
    assert decision.stock == {("C", "BER"): [reserved("C", 3, 4)]}
    after = fold_order(decision.order, order())
    assert after.lines[3].allocations == {"BER": 4}
    assert after.total == Money.of("39.00", "EUR")


def test_removing_a_line_and_adding_one_in_one_edit_swaps_them() -> None:
    decision = edit((2, 0), add=(RequestedLine("C", 1, Decimal("1.00")),))(order())
    after = fold_order(decision.order, order())
    assert after.status is OrderStatus.ALLOCATED
    assert after.lines[2].open_quantity == 0
    assert after.lines[3].allocations == {"BER": 1}
    assert set(decision.stock) == {("B", "BER"), ("C", "BER")}


def test_extra_units_come_from_another_location_when_the_first_is_out() -> None:
    decision = edit((1, 6), a_at_ber=3, a_at_muc=5)(order())
    assert decision.stock == {("A", "MUC"): [reserved("A", 1, 3, "MUC")]}
    assert fold_order(decision.order, order()).lines[1].allocations == {"BER": 3, "MUC": 3}


def test_extra_units_nobody_has_are_backordered_when_the_store_allows_it() -> None:
    backorders = Store(code="web", currency="EUR", allow_backorders=True, exists=True)
    decision = edit((1, 5), store=backorders, a_at_ber=3)(order())
    after = fold_order(decision.order, order())
    assert after.lines[1].backordered == 2
    assert after.status is OrderStatus.BACKORDERED


def test_extra_units_nobody_has_are_refused_otherwise() -> None:
    given([], lambda _: order()).when(edit((1, 5), a_at_ber=3)).then_refused(
        InsufficientStock, code="insufficient_stock"
    )


def test_editing_a_line_being_picked_is_refused_with_a_clear_conflict() -> None:
    given([], lambda _: order(planned(), OrderPickingStarted(shipment_id=SHIPMENT))).when(
        edit((1, 4))
    ).then_refused(PickingStarted, match="being picked", code="picking_started")


def test_a_shipped_order_is_closed_to_edits() -> None:
    given([], lambda _: order_shipped()).when(edit((1, 4))).then_refused(
        OrderClosed, match="place a new order", code="order_closed"
    )


def test_a_line_cannot_go_below_what_was_shipped() -> None:
    partly = order(
        planned(((1, 2),)),
        OrderLinesShipped(
            shipment_id=SHIPMENT,
            location="BER",
            lines=[LineQuantity(1, 2)],
            shipped_at=NOW,
        ),
    )
    given([], lambda _: partly).when(edit((1, 1))).then_refused(
        InvalidCommand, match="2 units already shipped"
    )


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        (edit(), InvalidCommand, "at least one line"),
        (edit((9, 1)), UnknownLine, "no line 9"),
        (edit((1, 2), (1, 3)), InvalidCommand, "named twice"),
        (edit((1, -1)), InvalidCommand, "shipped"),
        (edit((1, 0), (2, 0)), InvalidCommand, "cancel the order"),
        (edit(add=(RequestedLine("Z", 1, Decimal(1)),)), UnknownSku, "unknown SKU"),
        (edit(add=(RequestedLine("C", 0, Decimal(1)),)), InvalidCommand, "positive"),
    ],
)
def test_bad_edits_are_refused(command, error, match) -> None:
    given([], lambda _: order()).when(command).then_refused(error, match=match)


def test_an_edit_that_changes_nothing_decides_nothing() -> None:
    given([], lambda _: order()).when(edit((1, 3))).then(Decision(order=[], stock={}))
