"""Order commands: place, hold, release, cancel (whole or lines) and the stock events they cause."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from domain.location.model import Location
from domain.order import decide
from domain.order.decide import AlreadyPlaced, Decision, PlaceOrder, RequestedLine
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
    LineAllocation,
    OrderAllocated,
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderLine,
    OrderLinesCancelled,
    OrderPlaced,
    OrderReleased,
)
from domain.order.state import Order, OrderStatus, fold
from domain.product.model import Dimensions, Product
from domain.shared.errors import InvalidCommand
from domain.shared.money import InvalidAmount, Money
from domain.stock.errors import InsufficientStock, NoSuchReservation
from domain.stock.events import StockReceived, StockReservationReleased, StockReserved
from domain.stock.state import Stock
from domain.stock.state import fold as fold_stock
from domain.store.model import Store
from tests.support.gwt import given

ORDER = UUID("00000000-0000-0000-0000-0000000000a1")
OTHER_ORDER = UUID("00000000-0000-0000-0000-0000000000b2")
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
BERLIN = Location(code="BER", name="Berlin", country="DE", region="BE", exists=True)
MUNICH = Location(code="MUC", name="Munich", country="DE", region="BY", exists=True)
PARIS = Location(code="PAR", name="Paris", country="FR", region="IDF", exists=True)
LOCATIONS = [PARIS, MUNICH, BERLIN]
WEB = Store(code="web", name="Web", currency="EUR", allow_backorders=False, exists=True)
WEB_BACKORDERS = msgspec.structs.replace(WEB, allow_backorders=True)
CUSTOMER = Customer(email="ada@example.com", name="Ada")
TO_BERLIN = Address(
    name="Ada", line1="Str. 1", city="Berlin", postal_code="10115", country="DE", region="BE"
)


def product(sku: str) -> Product:
    return Product(
        sku=sku,
        name=sku,
        weight_grams=100,
        dimensions=Dimensions(10, 10, 10),
        prices={"web": Money.of("9.99", "EUR")},
        exists=True,
    )


PRODUCTS = {"A": product("A"), "B": product("B")}


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def stock(sku: str, location: str, on_hand: int, reserved_elsewhere: int = 0) -> Stock:
    events: list = [StockReceived(sku=sku, location=location, quantity=on_hand)]
    if reserved_elsewhere:
        events.append(
            StockReserved(
                sku=sku, location=location, order_id=OTHER_ORDER, quantity=reserved_elsewhere
            )
        )
    return fold_stock(events)


def command(*lines: tuple[str, int, str], currency: str = "EUR") -> PlaceOrder:
    return PlaceOrder(
        order_id=ORDER,
        store="web",
        channel="web",
        external_id="ext-1",
        currency=currency,
        customer=CUSTOMER,
        shipping_address=TO_BERLIN,
        lines=[RequestedLine(sku, qty, Decimal(price)) for sku, qty, price in lines],
        placed_at=NOW,
    )


def place(
    *lines: tuple[str, int, str],
    levels: Mapping[tuple[str, str], Stock],
    store: Store = WEB,
    currency: str = "EUR",
    products: Mapping[str, Product] = PRODUCTS,
):
    return lambda order: decide.place(
        order,
        command(*lines, currency=currency),
        store=store,
        products=products,
        stock=levels,
        locations=LOCATIONS,
    )


def order_placed(*lines: tuple[str, int, str]) -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER,
        store="web",
        channel="web",
        external_id="ext-1",
        currency="EUR",
        customer=CUSTOMER,
        shipping_address=TO_BERLIN,
        lines=[
            OrderLine(no, sku, qty, eur(price)) for no, (sku, qty, price) in enumerate(lines, 1)
        ],
        placed_at=NOW,
    )


def reserved(sku: str, location: str, quantity: int, line: int = 0) -> StockReserved:
    """A reservation for line `line` of the order (0: an order-level one, as recorded before
    reservations belonged to lines)."""
    return StockReserved(
        sku=sku, location=location, order_id=ORDER, quantity=quantity, line_no=line
    )


def released(sku: str, location: str, quantity: int, reason: str) -> StockReservationReleased:
    return StockReservationReleased(
        sku=sku, location=location, order_id=ORDER, quantity=quantity, reason=reason
    )


def allocated(*lines: tuple[int, list[tuple[str, int]], int]) -> OrderAllocated:
    return OrderAllocated(
        lines=[
            LineAllocation(no, [Allocation(loc, qty) for loc, qty in allocs], backordered)
            for no, allocs, backordered in lines
        ]
    )


# --- place -----------------------------------------------------------------------------------


def test_an_order_reserves_its_lines_at_one_location() -> None:
    levels = {("A", "BER"): stock("A", "BER", 5), ("B", "BER"): stock("B", "BER", 5)}
    given([], fold).when(place(("A", 2, "9.99"), ("B", 1, "5.00"), levels=levels)).then(
        Decision(
            order=[
                order_placed(("A", 2, "9.99"), ("B", 1, "5.00")),
                allocated((1, [("BER", 2)], 0), (2, [("BER", 1)], 0)),
            ],
            stock={
                ("A", "BER"): [reserved("A", "BER", 2, line=1)],
                ("B", "BER"): [reserved("B", "BER", 1, line=2)],
            },
        )
    )


def test_a_placed_order_is_allocated_with_its_total() -> None:
    levels = {("A", "BER"): stock("A", "BER", 5), ("B", "BER"): stock("B", "BER", 5)}
    decision = place(("A", 2, "9.99"), ("B", 1, "5.00"), levels=levels)(Order())
    order = fold(decision.order)
    assert order.status is OrderStatus.ALLOCATED
    assert order.total == eur("24.98")
    assert order.lines[1].allocations == {"BER": 2}


def test_two_lines_of_one_sku_reserve_twice_on_the_same_stream() -> None:
    levels = {("A", "BER"): stock("A", "BER", 3)}
    decision = place(("A", 2, "1.00"), ("A", 1, "2.00"), levels=levels)(Order())
    assert decision.stock == {
        ("A", "BER"): [reserved("A", "BER", 2, line=1), reserved("A", "BER", 1, line=2)]
    }


def test_a_free_line_is_accepted() -> None:
    levels = {("A", "BER"): stock("A", "BER", 1)}
    decision = place(("A", 1, "0"), levels=levels)(Order())
    assert fold(decision.order).total == eur("0.00")


def test_an_order_the_stock_cannot_fill_is_refused_when_the_store_denies_backorders() -> None:
    levels = {("A", "BER"): stock("A", "BER", 3, reserved_elsewhere=2)}
    refusal = (
        given([], fold)
        .when(place(("A", 2, "1.00"), levels=levels))
        .then_refused(InsufficientStock, match="A \\(short 1\\)", code="insufficient_stock")
    )
    assert refusal.context == {"short": {"A": 1}}


def test_the_shortfall_of_two_lines_of_one_sku_adds_up() -> None:
    levels = {("A", "BER"): stock("A", "BER", 1)}
    refusal = (
        given([], fold)
        .when(place(("A", 2, "1.00"), ("A", 3, "1.00"), levels=levels))
        .then_refused(InsufficientStock, code="insufficient_stock")
    )
    assert refusal.context == {"short": {"A": 4}}


def test_an_order_the_stock_cannot_fill_is_backordered_when_the_store_allows_it() -> None:
    levels = {("A", "BER"): stock("A", "BER", 2)}
    decision = (
        given([], fold)
        .when(place(("A", 5, "1.00"), ("B", 1, "1.00"), levels=levels, store=WEB_BACKORDERS))
        .then(
            Decision(
                order=[
                    order_placed(("A", 5, "1.00"), ("B", 1, "1.00")),
                    allocated((1, [("BER", 2)], 3), (2, [], 1)),
                ],
                stock={("A", "BER"): [reserved("A", "BER", 2, line=1)]},
            )
        )
    )
    order = fold(decision.order)
    assert (order.status, order.backordered) == (OrderStatus.BACKORDERED, 4)


def test_an_order_for_an_existing_order_id_is_refused() -> None:
    levels = {("A", "BER"): stock("A", "BER", 5)}
    given([order_placed(("A", 1, "1.00"))], fold).when(
        place(("A", 1, "1.00"), levels=levels)
    ).then_refused(AlreadyPlaced, code="order_exists")


def test_an_order_in_an_unknown_store_is_refused() -> None:
    given([], fold).when(place(("A", 1, "1.00"), levels={}, store=Store())).then_refused(
        UnknownStore, match="store 'web' does not exist", code="unknown_store"
    )


def test_an_order_in_another_currency_than_the_store_is_refused() -> None:
    refusal = (
        given([], fold)
        .when(place(("A", 1, "1.00"), levels={}, currency="USD"))
        .then_refused(InvalidCommand, match="sells in EUR, not USD")
    )
    assert refusal.context == {"field": "currency"}


def test_an_order_without_lines_is_refused() -> None:
    given([], fold).when(place(levels={})).then_refused(InvalidCommand, match="at least one line")


def test_an_order_with_too_many_lines_is_refused() -> None:
    lines = [("A", 1, "1.00")] * (decide.MAX_LINES + 1)
    given([], fold).when(place(*lines, levels={})).then_refused(
        InvalidCommand, match=f"at most {decide.MAX_LINES} lines"
    )


@pytest.mark.parametrize("quantity", [0, -3])
def test_an_order_line_of_no_or_negative_units_is_refused(quantity: int) -> None:
    refusal = (
        given([], fold)
        .when(place(("A", 1, "1.00"), ("B", quantity, "1.00"), levels={}))
        .then_refused(InvalidCommand, match="line 2: quantity must be positive")
    )
    assert refusal.context == {"field": "lines[1].quantity"}


def test_an_order_line_for_an_unknown_sku_is_refused() -> None:
    refusal = (
        given([], fold)
        .when(place(("NOPE", 1, "1.00"), levels={}))
        .then_refused(UnknownSku, match="unknown SKU 'NOPE'", code="unknown_sku")
    )
    assert refusal.context == {"field": "lines[0].sku"}


def test_an_order_line_for_a_product_that_does_not_exist_yet_is_refused() -> None:
    given([], fold).when(
        place(("A", 1, "1.00"), levels={}, products={"A": Product(sku="A")})
    ).then_refused(UnknownSku)


def test_an_order_line_with_a_negative_price_is_refused() -> None:
    given([], fold).when(place(("A", 1, "-1.00"), levels={})).then_refused(
        InvalidCommand, match="unit price cannot be negative"
    )


def test_an_order_line_priced_finer_than_the_currency_allows_is_refused() -> None:
    given([], fold).when(place(("A", 1, "1.001"), levels={})).then_refused(
        InvalidAmount, match="more decimals than EUR allows", code="invalid_amount"
    )


# --- hold and release ------------------------------------------------------------------------

PLACED: list[OrderEvent] = [
    order_placed(("A", 5, "1.00"), ("B", 2, "3.00")),
    allocated((1, [("BER", 2), ("MUC", 1)], 2), (2, [("BER", 2)], 0)),
]
CANCELLED: list[OrderEvent] = [*PLACED, OrderCancelled(reason="customer asked")]


def test_an_order_can_be_put_on_hold() -> None:
    given(PLACED, fold).when(lambda o: decide.hold(o, reason="fraud check")).then(
        [OrderHeld(reason="fraud check")]
    )


def test_holding_an_order_twice_is_refused() -> None:
    given([*PLACED, OrderHeld(reason="fraud check")], fold).when(
        lambda o: decide.hold(o, reason="again")
    ).then_refused(
        OrderAlreadyHeld, match="already on hold \\(fraud check\\)", code="order_on_hold"
    )


def test_a_hold_without_a_reason_is_refused() -> None:
    given(PLACED, fold).when(lambda o: decide.hold(o, reason=" ")).then_refused(
        InvalidCommand, match="needs a reason"
    )


def test_holding_a_cancelled_order_is_refused() -> None:
    given(CANCELLED, fold).when(lambda o: decide.hold(o, reason="x")).then_refused(
        OrderAlreadyCancelled, code="order_cancelled"
    )


def test_a_held_order_can_be_released() -> None:
    decided = (
        given([*PLACED, OrderHeld(reason="fraud check")], fold)
        .when(decide.release)
        .then([OrderReleased()])
    )
    order = fold([*PLACED, OrderHeld(reason="fraud check"), *decided])
    assert (order.on_hold, order.hold_reason) == (False, None)


def test_releasing_an_order_that_is_not_held_is_refused() -> None:
    given(PLACED, fold).when(decide.release).then_refused(
        OrderNotHeld, match="not on hold", code="order_not_on_hold"
    )


def test_releasing_a_cancelled_order_is_refused() -> None:
    given(CANCELLED, fold).when(decide.release).then_refused(OrderAlreadyCancelled)


@pytest.mark.parametrize(
    "command",
    [
        lambda o: decide.hold(o, reason="x"),
        decide.release,
        lambda o: decide.cancel(o, stock={}, reason="x"),
    ],
    ids=["hold", "release", "cancel"],
)
def test_a_command_for_an_order_that_does_not_exist_is_refused(command) -> None:
    given([], fold).when(command).then_refused(OrderNotFound, code="order_not_found")


# --- cancel ----------------------------------------------------------------------------------


def order_stock() -> dict[tuple[str, str], Stock]:
    """The stock streams as PLACED left them."""
    levels = {
        ("A", "BER"): stock("A", "BER", 10),
        ("A", "MUC"): stock("A", "MUC", 10),
        ("B", "BER"): stock("B", "BER", 10),
    }
    for key, quantity in {("A", "BER"): 2, ("A", "MUC"): 1, ("B", "BER"): 2}.items():
        levels[key] = fold_stock([reserved(*key, quantity)], levels[key])
    return levels


def cancel(reason: str = "customer asked", lines: Mapping[int, int] | None = None):
    return lambda o: decide.cancel(o, stock=order_stock(), reason=reason, lines=lines)


def test_cancelling_an_order_releases_every_reservation_and_cancels_it() -> None:
    decision = (
        given(PLACED, fold)
        .when(cancel())
        .then(
            Decision(
                order=[
                    OrderLinesCancelled(
                        lines=[
                            CancelledLine(1, 5, [Allocation("MUC", 1), Allocation("BER", 2)], 2),
                            CancelledLine(2, 2, [Allocation("BER", 2)], 0),
                        ],
                        reason="customer asked",
                    ),
                    OrderCancelled(reason="customer asked"),
                ],
                stock={
                    ("A", "MUC"): [released("A", "MUC", 1, "customer asked")],
                    ("A", "BER"): [released("A", "BER", 2, "customer asked")],
                    ("B", "BER"): [released("B", "BER", 2, "customer asked")],
                },
            )
        )
    )
    order = fold([*PLACED, *decision.order])
    assert order.status is OrderStatus.CANCELLED
    assert order.cancel_reason == "customer asked"
    assert order.total == eur("0.00")
    for key, events in decision.stock.items():
        assert fold_stock(list(events), order_stock()[key]).reserved_for(ORDER) == 0


def test_a_partial_cancel_drops_the_backorder_before_releasing_reservations() -> None:
    decision = (
        given(PLACED, fold)
        .when(cancel(lines={1: 3}))
        .then(
            Decision(
                order=[
                    OrderLinesCancelled(
                        lines=[CancelledLine(1, 3, [Allocation("MUC", 1)], 2)],
                        reason="customer asked",
                    )
                ],
                stock={("A", "MUC"): [released("A", "MUC", 1, "customer asked")]},
            )
        )
    )
    order = fold([*PLACED, *decision.order])
    assert order.status is OrderStatus.ALLOCATED  # the backorder is gone
    assert order.lines[1].allocations == {"BER": 2}
    assert (order.lines[1].open_quantity, order.lines[1].backordered) == (2, 0)
    assert order.total == eur("8.00")


def test_a_partial_cancel_within_the_backorder_releases_nothing() -> None:
    given(PLACED, fold).when(cancel(lines={1: 1})).then(
        Decision(
            order=[
                OrderLinesCancelled(lines=[CancelledLine(1, 1, [], 1)], reason="customer asked")
            ],
            stock={},
        )
    )


def test_cancelling_every_open_line_by_name_cancels_the_order() -> None:
    decision = given(PLACED, fold).when(cancel(lines={1: 5, 2: 2})).decided()
    assert decision.order[-1] == OrderCancelled(reason="customer asked")


def test_cancelling_the_rest_of_a_partly_cancelled_order_cancels_only_the_open_units() -> None:
    first = decide.cancel(fold(PLACED), stock=order_stock(), reason="r", lines={2: 2})
    rest = given([*PLACED, *first.order], fold).when(cancel()).decided()
    assert rest.order[0] == OrderLinesCancelled(
        lines=[CancelledLine(1, 5, [Allocation("MUC", 1), Allocation("BER", 2)], 2)],
        reason="customer asked",
    )
    assert rest.order[-1] == OrderCancelled(reason="customer asked")


def test_a_held_order_can_be_cancelled_and_is_no_longer_held() -> None:
    held = [*PLACED, OrderHeld(reason="fraud")]
    decision = given(held, fold).when(cancel()).decided()
    assert fold([*held, *decision.order]).on_hold is False


def test_cancelling_a_cancelled_order_is_refused() -> None:
    given(CANCELLED, fold).when(cancel()).then_refused(
        OrderAlreadyCancelled, match="is cancelled", code="order_cancelled"
    )


def test_cancelling_an_unknown_line_is_refused() -> None:
    given(PLACED, fold).when(cancel(lines={9: 1})).then_refused(
        UnknownLine, match="no line 9", code="unknown_line"
    )


@pytest.mark.parametrize("quantity", [0, -1, 6])
def test_cancelling_more_than_is_open_or_nothing_is_refused(quantity: int) -> None:
    given(PLACED, fold).when(cancel(lines={1: quantity})).then_refused(
        InvalidCommand, match=f"can cancel 1 to 5, not {quantity}"
    )


def test_cancelling_a_line_that_was_already_cancelled_is_refused() -> None:
    events = [*PLACED, OrderLinesCancelled(lines=[CancelledLine(2, 2, [], 0)], reason="r")]
    given(events, fold).when(cancel(lines={2: 1})).then_refused(
        InvalidCommand, match="can cancel 1 to 0"
    )


def test_a_cancel_naming_no_lines_is_refused() -> None:
    given(PLACED, fold).when(cancel(lines={})).then_refused(
        InvalidCommand, match="at least one line"
    )


def test_a_cancel_without_a_reason_is_refused() -> None:
    given(PLACED, fold).when(cancel(reason="")).then_refused(InvalidCommand, match="needs a reason")


def test_a_cancel_whose_reservation_is_missing_from_the_stock_is_refused() -> None:
    given(PLACED, fold).when(
        lambda o: decide.cancel(o, stock={}, reason="r", lines={2: 1})
    ).then_refused(NoSuchReservation)
