"""Reservations per order line (cancel, expiry, confirmation), stock settings and LowStock, and
returns: given past events / when a command / then the events (or a refusal)."""

from __future__ import annotations

from datetime import timedelta

from domain.order import decide as order_decide
from domain.order.decide import Decision
from domain.order.errors import OrderAlreadyCancelled
from domain.order.events import (
    Allocation,
    CancelledLine,
    LineQuantity,
    OrderConfirmed,
    OrderLinesCancelled,
    OrderPickingStarted,
    OrderReservationsExpired,
    OrderReturnAuthorized,
    OrderShipmentLinesDropped,
)
from domain.order.state import OrderStatus, ShipmentStage
from domain.order.state import fold as fold_order
from domain.returns import decide as returns
from domain.returns.decide import (
    AlreadyReceived,
    NotShipped,
    ReceiptMismatch,
    ReceivedUnits,
    RequestedReturn,
    ReturnWindowClosed,
)
from domain.returns.events import ReceivedLine, ReturnAuthorized, ReturnLine, ReturnReceived
from domain.returns.state import fold as fold_return
from domain.shared.errors import InvalidCommand
from domain.shipment.errors import PickingStarted
from domain.shipment.events import ShipmentCancelled, ShipmentLine, ShipmentLinesDropped
from domain.stock import decide as stock_rules
from domain.stock.errors import NoSuchReservation
from domain.stock.events import (
    LowStock,
    StockAdjusted,
    StockCommitted,
    StockPolicySet,
    StockReceived,
    StockReservationExpired,
    StockReservationReleased,
    StockReserved,
    StockRestocked,
    StockSlotted,
)
from domain.stock.state import fold as fold_stock
from tests.support.gwt import given
from tests.unit.fulfilment_fixtures import (
    LATER,
    NOW,
    ORDER,
    RMA,
    SHIPMENT,
    order,
    order_shipped,
    planned,
    reserved_stock,
    stock,
)

TTL = timedelta(minutes=30)


# --- cancelling lines against shipments ------------------------------------------------------


def cancel(lines: dict[int, int] | None = None):
    return lambda state: order_decide.cancel(
        state, stock=reserved_stock(), reason="customer asked", lines=lines, now=NOW
    )


def test_cancelling_a_line_before_picking_releases_it_and_drops_it_from_the_shipment() -> None:
    given([], lambda _: order(planned())).when(cancel({2: 2})).then(
        Decision(
            order=[
                OrderLinesCancelled(
                    lines=[CancelledLine(2, 2, [Allocation("BER", 2)], 0)],
                    reason="customer asked",
                ),
                OrderShipmentLinesDropped(shipment_id=SHIPMENT, lines=[LineQuantity(2, 2)]),
            ],
            stock={
                ("B", "BER"): [
                    StockReservationReleased(
                        sku="B",
                        location="BER",
                        order_id=ORDER,
                        line_no=2,
                        quantity=2,
                        reason="customer asked",
                    )
                ]
            },
            shipments={
                SHIPMENT: [
                    ShipmentLinesDropped(
                        lines=[ShipmentLine(2, "B", 2)], reason="customer asked", dropped_at=NOW
                    )
                ]
            },
        )
    )


def test_cancelling_everything_in_an_open_shipment_cancels_it() -> None:
    decision = cancel()(order(planned()))
    assert decision.shipments[SHIPMENT][-1] == ShipmentCancelled(
        reason="customer asked", cancelled_at=NOW
    )
    after = fold_order(list(decision.order), order(planned()))
    assert after.status is OrderStatus.CANCELLED
    assert after.shipments[SHIPMENT].stage is ShipmentStage.CANCELLED


def test_cancelling_units_in_no_shipment_leaves_the_shipments_alone() -> None:
    decision = cancel({1: 1})(order(planned(((1, 2),))))
    assert decision.shipments == {}


def test_cancelling_a_line_being_picked_is_refused_with_a_clear_conflict() -> None:
    given([], lambda _: order(planned(), OrderPickingStarted(shipment_id=SHIPMENT))).when(
        cancel({1: 1})
    ).then_refused(PickingStarted, match="being picked", code="picking_started")


def test_shipped_units_cannot_be_cancelled() -> None:
    given([], lambda _: order_shipped()).when(cancel({1: 1})).then_refused(
        InvalidCommand, match="can cancel 1 to 0"
    )


# --- confirmation and expiry -----------------------------------------------------------------


def expire(at=NOW + TTL, ttl: timedelta | None = TTL, levels=None):
    return lambda state: order_decide.expire(
        state, stock=levels if levels is not None else reserved_stock(), ttl=ttl, now=at
    )


def test_an_unconfirmed_order_past_its_ttl_expires_every_reservation() -> None:
    decision = given([], lambda _: order()).when(expire()).decided()
    assert decision.stock == {
        ("A", "BER"): [
            StockReservationExpired(sku="A", location="BER", order_id=ORDER, line_no=1, quantity=3)
        ],
        ("B", "BER"): [
            StockReservationExpired(sku="B", location="BER", order_id=ORDER, line_no=2, quantity=2)
        ],
    }
    assert decision.order == [
        OrderReservationsExpired(
            lines=[
                CancelledLine(1, 3, [Allocation("BER", 3)], 0),
                CancelledLine(2, 2, [Allocation("BER", 2)], 0),
            ],
            expired_at=NOW + TTL,
        )
    ]
    assert fold_order(list(decision.order), order()).status is OrderStatus.EXPIRED


def test_expiry_also_cancels_open_shipments() -> None:
    decision = expire()(order(planned()))
    assert decision.shipments == {
        SHIPMENT: [ShipmentCancelled(reason="reservation expired", cancelled_at=NOW + TTL)]
    }


def test_expiry_decides_nothing_before_the_ttl_runs_out() -> None:
    given([], lambda _: order()).when(expire(at=NOW + TTL - timedelta(seconds=1))).then(
        Decision(order=[], stock={})
    )


def test_expiry_decides_nothing_without_a_ttl() -> None:
    given([], lambda _: order()).when(expire(ttl=None)).then(Decision(order=[], stock={}))


def test_a_confirmed_order_keeps_its_reservations() -> None:
    given([], lambda _: order(OrderConfirmed(confirmed_at=NOW))).when(expire()).then(
        Decision(order=[], stock={})
    )


def test_an_order_being_picked_does_not_expire() -> None:
    given([], lambda _: order(planned(), OrderPickingStarted(shipment_id=SHIPMENT))).when(
        expire()
    ).then(Decision(order=[], stock={}))


def test_expiring_twice_expires_once() -> None:
    first = expire()(order())
    again = expire()(fold_order(list(first.order), order()))
    assert again == Decision(order=[], stock={})


def test_confirming_is_idempotent_and_refused_once_expired() -> None:
    given([], lambda _: order()).when(lambda o: order_decide.confirm(o, now=NOW)).then(
        [OrderConfirmed(confirmed_at=NOW)]
    )
    given([], lambda _: order(OrderConfirmed(confirmed_at=NOW))).when(
        lambda o: order_decide.confirm(o, now=LATER)
    ).then([])
    expired = fold_order(list(expire()(order()).order), order())
    given([], lambda _: expired).when(lambda o: order_decide.confirm(o, now=LATER)).then_refused(
        OrderAlreadyCancelled, match="expired"
    )


# --- the stock ledger: line reservations, commit, restock, settings, LowStock ----------------


def test_a_reservation_ends_once_per_unit() -> None:
    held = stock("A", holds={1: 3})
    committed = stock_rules.commit(
        held, order_id=ORDER, line_no=1, shipment_id=SHIPMENT, quantity=3
    )
    after = fold_stock(list(committed), held)
    assert (after.on_hand, after.reserved, after.holds, after.shipped) == (7, 0, {}, 3)
    given([], lambda _: after).when(
        lambda s: stock_rules.commit(s, order_id=ORDER, line_no=1, shipment_id=SHIPMENT, quantity=1)
    ).then_refused(NoSuchReservation)
    given([], lambda _: after).when(
        lambda s: stock_rules.release(s, order_id=ORDER, line_no=1, reason="x")
    ).then_refused(NoSuchReservation)


def test_an_order_level_reservation_from_before_lines_serves_any_line() -> None:
    legacy = fold_stock(
        [
            StockReceived(sku="A", location="BER", quantity=5),
            StockReserved(sku="A", location="BER", order_id=ORDER, quantity=3),
        ]
    )
    assert stock_rules.commit(
        legacy, order_id=ORDER, line_no=1, shipment_id=SHIPMENT, quantity=2
    ) == [
        StockCommitted(
            sku="A", location="BER", order_id=ORDER, line_no=0, shipment_id=SHIPMENT, quantity=2
        )
    ]


def test_restocking_adds_to_on_hand() -> None:
    given([StockReceived(sku="A", location="BER", quantity=1)], fold_stock).when(
        lambda s: stock_rules.restock(s, sku="A", location="BER", return_id=RMA, quantity=2)
    ).then([StockRestocked(sku="A", location="BER", return_id=RMA, quantity=2)])


def test_a_bin_is_set_once() -> None:
    given([], fold_stock).when(
        lambda s: stock_rules.slot(s, sku="A", location="BER", bin="A-01")
    ).then([StockSlotted(sku="A", location="BER", bin="A-01")])
    given([StockSlotted(sku="A", location="BER", bin="A-01")], fold_stock).when(
        lambda s: stock_rules.slot(s, sku="A", location="BER", bin="A-01")
    ).then([])


def test_safety_stock_is_not_available() -> None:
    state = fold_stock(
        [
            StockReceived(sku="A", location="BER", quantity=10),
            StockPolicySet(sku="A", location="BER", reorder_point=4, safety_stock=3),
        ]
    )
    assert state.available == 7


def test_falling_to_the_reorder_point_emits_low_stock_once() -> None:
    before = fold_stock(
        [
            StockReceived(sku="A", location="BER", quantity=10),
            StockPolicySet(sku="A", location="BER", reorder_point=4, safety_stock=1),
        ]
    )
    reserve = stock_rules.reserve(
        before, sku="A", location="BER", order_id=ORDER, quantity=5, line_no=1
    )
    assert stock_rules.flag_low_stock(before, list(reserve)) == [
        *reserve,
        LowStock(sku="A", location="BER", available=4, reorder_point=4),
    ]
    low = fold_stock(list(reserve), before)
    more = stock_rules.reserve(low, sku="A", location="BER", order_id=ORDER, quantity=1, line_no=2)
    assert stock_rules.flag_low_stock(low, list(more)) == more


def test_negative_policies_are_refused() -> None:
    given([], fold_stock).when(
        lambda s: stock_rules.set_policy(
            s, sku="A", location="BER", reorder_point=-1, safety_stock=0
        )
    ).then_refused(InvalidCommand)


# --- returns ---------------------------------------------------------------------------------


def authorize(*lines: RequestedReturn, window: timedelta = timedelta(days=30), at=LATER):
    return lambda state: returns.authorize(
        state, return_id=RMA, lines=list(lines), window=window, now=at
    )


def test_a_return_is_authorized_for_shipped_units_with_its_reason_category() -> None:
    given([], lambda _: order_shipped()).when(authorize(RequestedReturn("A", 1, "defective"))).then(
        (
            [OrderReturnAuthorized(return_id=RMA, lines=[LineQuantity(1, 1)])],
            [
                ReturnAuthorized(
                    return_id=RMA,
                    order_id=ORDER,
                    store="web",
                    lines=[
                        ReturnLine(
                            line_no=1,
                            sku="A",
                            quantity=1,
                            reason="defective",
                            category="product_quality",
                        )
                    ],
                    authorized_at=LATER,
                )
            ],
        )
    )


def test_more_than_was_shipped_cannot_be_returned() -> None:
    given([], lambda _: order_shipped()).when(
        authorize(RequestedReturn("A", 4, "changed_mind"))
    ).then_refused(NotShipped, match="3 shipped unit")


def test_units_returned_once_cannot_be_returned_again() -> None:
    once = order_shipped()
    order_events, _ = authorize(RequestedReturn("A", 3, "changed_mind"))(once)
    again = fold_order(list(order_events), once)
    given([], lambda _: again).when(
        authorize(RequestedReturn("A", 1, "changed_mind"))
    ).then_refused(NotShipped)


def test_nothing_shipped_means_nothing_to_return() -> None:
    given([], lambda _: order()).when(authorize(RequestedReturn("A", 1, "other"))).then_refused(
        NotShipped
    )


def test_the_return_window_runs_from_delivery() -> None:
    delivered = order_shipped(delivered=True)
    given([], lambda _: delivered).when(
        authorize(RequestedReturn("A", 1, "other"), at=LATER + timedelta(days=31))
    ).then_refused(ReturnWindowClosed)
    assert authorize(RequestedReturn("A", 1, "other"), at=LATER + timedelta(days=29))(delivered)


def test_an_unknown_reason_is_refused() -> None:
    given([], lambda _: order_shipped()).when(
        authorize(RequestedReturn("A", 1, "meh"))
    ).then_refused(InvalidCommand)


def authorized():
    return [
        ReturnAuthorized(
            return_id=RMA,
            order_id=ORDER,
            store="web",
            lines=[ReturnLine(line_no=1, sku="A", quantity=2, reason="other", category="other")],
            authorized_at=LATER,
        )
    ]


def receive(*lines: ReceivedUnits):
    return lambda state: returns.receive(
        state, location="BER", lines=list(lines), stock={}, now=LATER
    )


def test_sellable_units_are_restocked_and_damaged_ones_written_off() -> None:
    return_events, stock_events = (
        given(authorized(), fold_return)
        .when(receive(ReceivedUnits("A", 1, "sellable"), ReceivedUnits("A", 1, "damaged")))
        .decided()
    )
    assert return_events == [
        ReturnReceived(
            location="BER",
            lines=[
                ReceivedLine(sku="A", quantity=1, condition="sellable"),
                ReceivedLine(sku="A", quantity=1, condition="damaged"),
            ],
            received_at=LATER,
        )
    ]
    assert stock_events == {
        ("A", "BER"): [
            StockRestocked(sku="A", location="BER", return_id=RMA, quantity=1),
            StockRestocked(sku="A", location="BER", return_id=RMA, quantity=1),
            StockAdjusted(
                sku="A", location="BER", delta=-1, counted=None, reason=f"damaged on return {RMA}"
            ),
        ]
    }


def test_more_than_was_authorized_cannot_be_received() -> None:
    given(authorized(), fold_return).when(receive(ReceivedUnits("A", 3, "sellable"))).then_refused(
        ReceiptMismatch
    )


def test_a_return_is_received_once() -> None:
    received = ReturnReceived(
        location="BER",
        lines=[ReceivedLine(sku="A", quantity=2, condition="sellable")],
        received_at=LATER,
    )
    given([*authorized(), received], fold_return).when(
        receive(ReceivedUnits("A", 1, "sellable"))
    ).then_refused(AlreadyReceived)


def test_an_unknown_condition_is_refused() -> None:
    given(authorized(), fold_return).when(receive(ReceivedUnits("A", 1, "used"))).then_refused(
        InvalidCommand
    )
