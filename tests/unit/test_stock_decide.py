"""Stock ledger commands: given past events, when a command, then the events it decides."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from domain.shared.errors import InvalidCommand
from domain.shared.money import Money
from domain.stock import decide
from domain.stock.errors import BelowReserved, InsufficientStock, NoSuchReservation
from domain.stock.events import (
    StockAdjusted,
    StockReceived,
    StockReservationReleased,
    StockReserved,
    StockTransferredIn,
    StockTransferredOut,
)
from domain.stock.state import Stock, fold
from tests.support.gwt import given

SKU, HERE, THERE = "SKU-1", "WH-1", "WH-2"
ORDER_A = UUID("00000000-0000-0000-0000-00000000000a")
ORDER_B = UUID("00000000-0000-0000-0000-00000000000b")
TRANSFER = UUID("00000000-0000-0000-0000-0000000000f1")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def received(quantity: int, unit_cost: Money | None = None) -> StockReceived:
    return StockReceived(sku=SKU, location=HERE, quantity=quantity, unit_cost=unit_cost)


def reserved(order_id: UUID, quantity: int) -> StockReserved:
    return StockReserved(sku=SKU, location=HERE, order_id=order_id, quantity=quantity)


def released(order_id: UUID, quantity: int, reason: str = "cancelled") -> StockReservationReleased:
    return StockReservationReleased(
        sku=SKU, location=HERE, order_id=order_id, quantity=quantity, reason=reason
    )


# --- receive ---------------------------------------------------------------------------------


def test_a_receipt_records_the_units_and_their_cost() -> None:
    given([], fold).when(
        lambda s: decide.receive(
            s, sku=SKU, location=HERE, quantity=10, unit_cost=eur("2.50"), reference="PO-1"
        )
    ).then(
        [
            StockReceived(
                sku=SKU, location=HERE, quantity=10, unit_cost=eur("2.50"), reference="PO-1"
            )
        ]
    )


def test_a_receipt_without_a_cost_is_accepted() -> None:
    given([received(1)], fold).when(
        lambda s: decide.receive(s, sku=SKU, location=HERE, quantity=3)
    ).then([received(3)])


@pytest.mark.parametrize("quantity", [0, -1, -100])
def test_a_receipt_of_no_or_negative_units_is_refused(quantity: int) -> None:
    given([], fold).when(
        lambda s: decide.receive(s, sku=SKU, location=HERE, quantity=quantity)
    ).then_refused(InvalidCommand, match="positive", code="invalid_command")


def test_a_receipt_with_a_negative_unit_cost_is_refused() -> None:
    given([], fold).when(
        lambda s: decide.receive(s, sku=SKU, location=HERE, quantity=1, unit_cost=eur("-0.01"))
    ).then_refused(InvalidCommand, match="cost cannot be negative")


def test_a_receipt_costed_in_another_currency_than_the_stock_is_refused() -> None:
    given([received(5, eur("1.00"))], fold).when(
        lambda s: decide.receive(
            s, sku=SKU, location=HERE, quantity=5, unit_cost=Money.of("1.00", "USD")
        )
    ).then_refused(InvalidCommand, match="EUR")


# --- moving-average cost ---------------------------------------------------------------------


def test_the_first_costed_receipt_sets_the_average_cost() -> None:
    assert fold([received(10, eur("2.50"))]).average_cost == Money(Decimal("2.5000"), "EUR")


def test_receipts_at_different_costs_give_the_exact_moving_average() -> None:
    # (10 x 2.00 + 5 x 3.00) / 15 = 2.3333...
    state = fold([received(10, eur("2.00")), received(5, eur("3.00"))])
    assert state.on_hand == 15
    assert state.average_cost == Money(Decimal("2.3333"), "EUR")
    # (15 x 2.3333 + 5 x 4.00) / 20 = 2.749975 -> 2.7500 at 4 places
    state = fold([received(5, eur("4.00"))], state)
    assert state.average_cost == Money(Decimal("2.7500"), "EUR")


def test_an_uncosted_receipt_leaves_the_average_cost_alone() -> None:
    state = fold([received(4, eur("1.10")), received(6)])
    assert state.average_cost == Money(Decimal("1.1000"), "EUR")
    assert state.on_hand == 10


def test_a_receipt_into_an_emptied_location_restarts_the_average() -> None:
    emptied = StockAdjusted(sku=SKU, location=HERE, delta=-10, counted=0, reason="count")
    state = fold([received(10, eur("9.00")), emptied, received(2, eur("1.00"))])
    assert state.average_cost == Money(Decimal("1.0000"), "EUR")


def test_transferred_units_carry_their_cost_into_the_destination_average() -> None:
    here = fold([received(3, eur("1.00"))])
    into = StockTransferredIn(
        sku=SKU,
        location=THERE,
        transfer_id=TRANSFER,
        from_location=HERE,
        quantity=1,
        unit_cost=eur("4.00"),
    )
    state = fold([into], here)
    # (3 x 1.00 + 1 x 4.00) / 4 = 1.75
    assert state.average_cost == Money(Decimal("1.7500"), "EUR")


# --- adjust ----------------------------------------------------------------------------------


def test_a_cycle_count_records_the_difference_to_on_hand() -> None:
    given([received(10)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="cycle count", counted=7)
    ).then([StockAdjusted(sku=SKU, location=HERE, delta=-3, counted=7, reason="cycle count")])


def test_a_cycle_count_that_matches_records_a_zero_difference() -> None:
    given([received(10)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="count", counted=10)
    ).then([StockAdjusted(sku=SKU, location=HERE, delta=0, counted=10, reason="count")])


def test_a_correction_records_its_delta() -> None:
    given([received(10)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="found", delta=2)
    ).then([StockAdjusted(sku=SKU, location=HERE, delta=2, counted=None, reason="found")])


def test_a_cycle_count_down_to_exactly_reserved_is_accepted() -> None:
    given([received(10), reserved(ORDER_A, 4)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="count", counted=4)
    ).then([StockAdjusted(sku=SKU, location=HERE, delta=-6, counted=4, reason="count")])


def test_a_cycle_count_below_reserved_is_refused() -> None:
    given([received(10), reserved(ORDER_A, 4)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="count", counted=3)
    ).then_refused(BelowReserved, match="below the 4 reserved", code="below_reserved")


def test_a_correction_below_reserved_is_refused() -> None:
    given([received(10), reserved(ORDER_A, 4)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="damaged", delta=-7)
    ).then_refused(BelowReserved)


def test_a_correction_below_zero_is_refused() -> None:
    given([received(2)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="lost", delta=-3)
    ).then_refused(InsufficientStock, match="cannot drop by 3", code="insufficient_stock")


def test_a_negative_count_is_refused() -> None:
    given([received(2)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="count", counted=-1)
    ).then_refused(InvalidCommand, match="counted cannot be negative")


def test_a_zero_correction_is_refused() -> None:
    given([received(2)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason="oops", delta=0)
    ).then_refused(InvalidCommand, match="delta must not be zero")


@pytest.mark.parametrize(("counted", "delta"), [(None, None), (3, 1)])
def test_an_adjustment_needs_exactly_one_of_counted_or_delta(
    counted: int | None, delta: int | None
) -> None:
    given([received(2)], fold).when(
        lambda s: decide.adjust(
            s, sku=SKU, location=HERE, reason="count", counted=counted, delta=delta
        )
    ).then_refused(InvalidCommand, match="exactly one of counted or delta")


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_adjustment_without_a_reason_is_refused(reason: str) -> None:
    given([received(2)], fold).when(
        lambda s: decide.adjust(s, sku=SKU, location=HERE, reason=reason, delta=1)
    ).then_refused(InvalidCommand, match="needs a reason")


# --- transfer --------------------------------------------------------------------------------


def test_a_transfer_moves_available_units_with_their_average_cost() -> None:
    given([received(10, eur("2.00")), reserved(ORDER_A, 4)], fold).when(
        lambda s: decide.transfer(
            s, sku=SKU, from_location=HERE, to_location=THERE, quantity=6, transfer_id=TRANSFER
        )
    ).then(
        (
            [
                StockTransferredOut(
                    sku=SKU, location=HERE, transfer_id=TRANSFER, to_location=THERE, quantity=6
                )
            ],
            [
                StockTransferredIn(
                    sku=SKU,
                    location=THERE,
                    transfer_id=TRANSFER,
                    from_location=HERE,
                    quantity=6,
                    unit_cost=Money(Decimal("2.0000"), "EUR"),
                )
            ],
        )
    )


def test_a_transfer_of_more_than_available_is_refused() -> None:
    given([received(10), reserved(ORDER_A, 4)], fold).when(
        lambda s: decide.transfer(
            s, sku=SKU, from_location=HERE, to_location=THERE, quantity=7, transfer_id=TRANSFER
        )
    ).then_refused(InsufficientStock, match="only 6 available", code="insufficient_stock")


def test_a_transfer_to_the_same_location_is_refused() -> None:
    given([received(10)], fold).when(
        lambda s: decide.transfer(
            s, sku=SKU, from_location=HERE, to_location=HERE, quantity=1, transfer_id=TRANSFER
        )
    ).then_refused(InvalidCommand, match="two different locations")


@pytest.mark.parametrize("quantity", [0, -2])
def test_a_transfer_of_no_or_negative_units_is_refused(quantity: int) -> None:
    given([received(10)], fold).when(
        lambda s: decide.transfer(
            s,
            sku=SKU,
            from_location=HERE,
            to_location=THERE,
            quantity=quantity,
            transfer_id=TRANSFER,
        )
    ).then_refused(InvalidCommand, match="positive")


def test_a_transfer_conserves_units_across_the_two_locations() -> None:
    here = fold([received(10)])
    out, into = decide.transfer(
        here, sku=SKU, from_location=HERE, to_location=THERE, quantity=3, transfer_id=TRANSFER
    )
    assert fold(list(out), here).on_hand == 7
    assert fold(list(into)).on_hand == 3


# --- reserve ---------------------------------------------------------------------------------


def test_a_reservation_holds_available_units_for_an_order() -> None:
    given([received(5)], fold).when(
        lambda s: decide.reserve(s, sku=SKU, location=HERE, order_id=ORDER_A, quantity=5)
    ).then([reserved(ORDER_A, 5)])


def test_reservations_for_several_orders_add_up_per_order() -> None:
    state = fold([received(10), reserved(ORDER_A, 2), reserved(ORDER_B, 3), reserved(ORDER_A, 1)])
    assert (state.reserved, state.available) == (6, 4)
    assert state.reservations == {ORDER_A: 3, ORDER_B: 3}


def test_a_reservation_of_more_than_available_is_refused() -> None:
    given([received(5), reserved(ORDER_A, 3)], fold).when(
        lambda s: decide.reserve(s, sku=SKU, location=HERE, order_id=ORDER_B, quantity=3)
    ).then_refused(InsufficientStock, match="only 2 available", code="insufficient_stock")


def test_a_reservation_where_nothing_was_ever_received_is_refused() -> None:
    given([], fold).when(
        lambda s: decide.reserve(s, sku=SKU, location=HERE, order_id=ORDER_A, quantity=1)
    ).then_refused(InsufficientStock, match="only 0 available")


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_reservation_of_no_or_negative_units_is_refused(quantity: int) -> None:
    given([received(5)], fold).when(
        lambda s: decide.reserve(s, sku=SKU, location=HERE, order_id=ORDER_A, quantity=quantity)
    ).then_refused(InvalidCommand, match="positive")


# --- release ---------------------------------------------------------------------------------


def test_a_release_frees_the_whole_reservation_by_default() -> None:
    given([received(5), reserved(ORDER_A, 3)], fold).when(
        lambda s: decide.release(s, order_id=ORDER_A, reason="cancelled")
    ).then([released(ORDER_A, 3)])


def test_a_partial_release_frees_only_what_it_names() -> None:
    decided = (
        given([received(5), reserved(ORDER_A, 3)], fold)
        .when(lambda s: decide.release(s, order_id=ORDER_A, reason="cancelled", quantity=1))
        .then([released(ORDER_A, 1)])
    )
    state = fold(decided, fold([received(5), reserved(ORDER_A, 3)]))
    assert (state.reserved, state.reservations) == (2, {ORDER_A: 2})


def test_a_full_release_forgets_the_order() -> None:
    state = fold([received(5), reserved(ORDER_A, 3), released(ORDER_A, 3)])
    assert state == Stock(sku=SKU, location=HERE, on_hand=5, received=5)


def test_a_release_without_a_reservation_is_refused() -> None:
    given([received(5), reserved(ORDER_A, 3)], fold).when(
        lambda s: decide.release(s, order_id=ORDER_B, reason="cancelled")
    ).then_refused(NoSuchReservation, match="no reservation", code="no_such_reservation")


def test_a_release_after_the_reservation_was_released_is_refused() -> None:
    given([received(5), reserved(ORDER_A, 3), released(ORDER_A, 3)], fold).when(
        lambda s: decide.release(s, order_id=ORDER_A, reason="cancelled")
    ).then_refused(NoSuchReservation)


def test_a_release_of_more_than_the_order_holds_is_refused() -> None:
    given([received(5), reserved(ORDER_A, 3)], fold).when(
        lambda s: decide.release(s, order_id=ORDER_A, reason="cancelled", quantity=4)
    ).then_refused(NoSuchReservation, match="holds 3")


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_release_of_no_or_negative_units_is_refused(quantity: int) -> None:
    given([received(5), reserved(ORDER_A, 3)], fold).when(
        lambda s: decide.release(s, order_id=ORDER_A, reason="cancelled", quantity=quantity)
    ).then_refused(InvalidCommand, match="positive")
