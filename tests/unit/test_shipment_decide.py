"""Shipment commands, given past events / when a command / then the events of the shipment, the
order and the stock it moves (or a refusal)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.order.decide import Decision
from domain.order.errors import OrderNotFound, UnknownLine
from domain.order.events import (
    Allocation,
    LineAllocation,
    LineQuantity,
    OrderAllocated,
    OrderCancelled,
    OrderHeld,
    OrderLinesShipped,
    OrderLinesShortPicked,
    OrderPickingStarted,
    OrderShipmentDelivered,
)
from domain.order.state import Order, OrderStatus
from domain.order.state import fold as fold_order
from domain.shared.errors import InvalidCommand
from domain.shared.money import Money
from domain.shipment import decide
from domain.shipment.decide import PickCount
from domain.shipment.errors import (
    ExceedsAllocation,
    NothingToShip,
    OrderClosed,
    OrderOnHold,
    OverPicked,
    PackingMismatch,
    ShipmentNotFound,
    WrongShipmentStatus,
)
from domain.shipment.events import (
    ParcelLine,
    PickedLine,
    ShipmentCancelled,
    ShipmentDelivered,
    ShipmentExceptionRecorded,
    ShipmentLabelled,
    ShipmentLine,
    ShipmentPacked,
    ShipmentPicked,
    ShipmentPickRecorded,
    ShipmentTrackingUpdated,
)
from domain.shipment.state import Label, ShipmentStatus, fold
from domain.stock.events import StockCommitted, StockReservationReleased, StockReserved
from tests.support.gwt import given
from tests.unit.fulfilment_fixtures import (
    BERLIN,
    LATER,
    MUNICH,
    NOW,
    ORDER,
    SHIPMENT,
    created,
    order,
    packed,
    parcel,
    picked_all,
    planned,
    reserved_stock,
    shipped,
    stock,
)

LABEL = Label(
    carrier="UPS",
    service="standard",
    tracking_number="1Z123",
    cost=Money.of("8.58", "EUR"),
    label_format="zpl",
    label="^XA^XZ",
)


def create(lines: dict[int, int] | None = None, location: str = "BER", priority: str = "standard"):
    return lambda state: decide.create(
        state, shipment_id=SHIPMENT, location=location, lines=lines, priority=priority, now=NOW
    )


# --- create ----------------------------------------------------------------------------------


def test_a_shipment_takes_every_allocated_unit_at_its_location_by_default() -> None:
    given([], lambda _: order()).when(create()).then(
        Decision(order=[planned()], stock={}, shipments={SHIPMENT: [created()]})
    )


def test_a_partial_shipment_takes_the_named_lines() -> None:
    decision = create({1: 2})(order())
    assert decision.order == [planned(((1, 2),))]
    assert decision.shipments[SHIPMENT][0].lines == [ShipmentLine(1, "A", 2)]


def test_a_second_shipment_gets_only_what_the_first_did_not_take() -> None:
    state = order(planned(((1, 2),)))
    decision = decide.create(
        state, shipment_id=UUID(int=7), location="BER", lines=None, priority="expedited", now=NOW
    )
    assert decision.shipments[UUID(int=7)][0].lines == [
        ShipmentLine(1, "A", 1),
        ShipmentLine(2, "B", 2),
    ]
    assert decision.shipments[UUID(int=7)][0].priority == "expedited"


def test_a_shipment_never_exceeds_what_is_allocated_there() -> None:
    given([], lambda _: order()).when(create({1: 4})).then_refused(
        ExceedsAllocation, match="only 3 units", code="exceeds_allocation"
    )


def test_a_shipment_from_a_location_without_allocations_has_nothing_to_ship() -> None:
    given([], lambda _: order()).when(create(location="MUC")).then_refused(NothingToShip)


def test_a_shipment_of_an_unknown_line_is_refused() -> None:
    given([], lambda _: order()).when(create({9: 1})).then_refused(UnknownLine)


def test_a_held_order_is_not_fulfilled() -> None:
    given([], lambda _: order(OrderHeld(reason="fraud check"))).when(create()).then_refused(
        OrderOnHold, match="fraud check"
    )


def test_a_cancelled_order_is_not_fulfilled() -> None:
    given([], lambda _: order(OrderCancelled(reason="x"))).when(create()).then_refused(OrderClosed)


def test_a_shipment_for_no_order_is_refused() -> None:
    given([], lambda _: Order()).when(create()).then_refused(OrderNotFound)


def test_an_unknown_priority_is_refused() -> None:
    given([], lambda _: order()).when(create(priority="urgent")).then_refused(InvalidCommand)


# --- pick ------------------------------------------------------------------------------------


def pick(*counts: PickCount, reroute: bool = False, ordered: Order | None = None, levels=None):
    return lambda shipment: decide.pick(
        shipment,
        ordered or order(planned()),
        counts=list(counts),
        stock=levels if levels is not None else reserved_stock(),
        reroute=reroute,
        locations=[BERLIN, MUNICH],
        now=NOW,
    )


def test_the_first_pick_starts_picking_on_the_order() -> None:
    given([created()], fold).when(pick(PickCount(1, 2))).then(
        Decision(
            order=[OrderPickingStarted(shipment_id=SHIPMENT)],
            stock={},
            shipments={
                SHIPMENT: [ShipmentPickRecorded(lines=[PickedLine(1, "A", 2, 0)], picked_at=NOW)]
            },
        )
    )


def test_picking_every_unit_completes_the_pick() -> None:
    decision = given([created()], fold).when(pick(PickCount(1, 3), PickCount(2, 2))).decided()
    assert decision.shipments[SHIPMENT][-1] == ShipmentPicked(
        lines=[ShipmentLine(1, "A", 3), ShipmentLine(2, "B", 2)], picked_at=NOW
    )


def test_a_short_pick_releases_the_missing_units_and_backorders_them() -> None:
    decision = (
        given([created()], fold).when(pick(PickCount(1, 2, short=1), PickCount(2, 2))).decided()
    )
    assert decision.stock == {
        ("A", "BER"): [
            StockReservationReleased(
                sku="A", location="BER", order_id=ORDER, line_no=1, quantity=1, reason="short_pick"
            )
        ]
    }
    assert (
        OrderLinesShortPicked(shipment_id=SHIPMENT, location="BER", lines=[LineQuantity(1, 1)])
        in decision.order
    )
    assert decision.shipments[SHIPMENT][-1] == ShipmentPicked(
        lines=[ShipmentLine(1, "A", 2), ShipmentLine(2, "B", 2)], picked_at=NOW
    )
    after = fold_order(list(decision.order), order(planned()))
    assert after.lines[1].backordered == 1
    assert after.lines[1].allocations == {"BER": 2}


def test_a_rerouted_short_pick_is_reserved_at_the_nearest_other_location() -> None:
    levels = reserved_stock() | {("A", "MUC"): stock("A", "MUC", on_hand=5)}
    decision = (
        given([created()], fold)
        .when(pick(PickCount(1, 2, short=1), PickCount(2, 2), reroute=True, levels=levels))
        .decided()
    )
    assert decision.stock[("A", "MUC")] == [
        StockReserved(sku="A", location="MUC", order_id=ORDER, line_no=1, quantity=1)
    ]
    assert decision.order[-1] == OrderAllocated(
        lines=[LineAllocation(1, [Allocation("MUC", 1)], 0)]
    )
    after = fold_order(list(decision.order), order(planned()))
    assert (after.lines[1].allocations, after.lines[1].backordered) == ({"BER": 2, "MUC": 1}, 0)


def test_a_pick_where_nothing_is_found_cancels_the_shipment() -> None:
    decision = (
        given([created(((1, "A", 3),))], fold)
        .when(pick(PickCount(1, 0, short=3), ordered=order(planned(((1, 3),)))))
        .decided()
    )
    assert isinstance(decision.shipments[SHIPMENT][-1], ShipmentCancelled)


def test_picking_more_than_is_left_is_refused() -> None:
    given([created()], fold).when(pick(PickCount(1, 4))).then_refused(OverPicked)


def test_a_pick_must_report_something() -> None:
    given([created()], fold).when(pick(PickCount(1, 0))).then_refused(InvalidCommand)


def test_a_line_reported_twice_is_refused() -> None:
    given([created()], fold).when(pick(PickCount(1, 1), PickCount(1, 1))).then_refused(
        InvalidCommand, match="twice"
    )


def test_an_unknown_line_cannot_be_picked() -> None:
    given([created()], fold).when(pick(PickCount(5, 1))).then_refused(UnknownLine)


def test_a_picked_shipment_takes_no_more_picks() -> None:
    given([created(), *picked_all()], fold).when(pick(PickCount(1, 1))).then_refused(
        WrongShipmentStatus
    )


def test_an_unknown_shipment_cannot_be_picked() -> None:
    given([], fold).when(pick(PickCount(1, 1))).then_refused(ShipmentNotFound)


# --- pack, label -----------------------------------------------------------------------------


def test_packing_holds_exactly_the_picked_units() -> None:
    given([created(), *picked_all()], fold).when(
        lambda s: decide.pack(s, parcels=[parcel()], now=NOW)
    ).then([ShipmentPacked(parcels=[parcel()], packed_at=NOW)])


def test_parcels_that_miss_units_are_refused() -> None:
    short = msgspec.structs.replace(parcel(), lines=[ParcelLine(1, 3)])
    given([created(), *picked_all()], fold).when(
        lambda s: decide.pack(s, parcels=[short], now=NOW)
    ).then_refused(PackingMismatch)


def test_a_parcel_without_weight_is_refused() -> None:
    weightless = msgspec.structs.replace(parcel(), weight_grams=0)
    given([created(), *picked_all()], fold).when(
        lambda s: decide.pack(s, parcels=[weightless], now=NOW)
    ).then_refused(InvalidCommand)


def test_an_unpicked_shipment_cannot_be_packed() -> None:
    given([created()], fold).when(
        lambda s: decide.pack(s, parcels=[parcel()], now=NOW)
    ).then_refused(WrongShipmentStatus, match="must be picked")


def test_a_label_is_recorded_with_its_tracking_number_and_cost() -> None:
    given([created(), *picked_all(), packed()], fold).when(
        lambda s: decide.label(s, bought=LABEL, now=NOW)
    ).then(
        [
            ShipmentLabelled(
                carrier="UPS",
                service="standard",
                tracking_number="1Z123",
                cost=Money.of("8.58", "EUR"),
                label_format="zpl",
                label="^XA^XZ",
                labelled_at=NOW,
            )
        ]
    )


def test_an_unpacked_shipment_gets_no_label() -> None:
    given([created(), *picked_all()], fold).when(
        lambda s: decide.label(s, bought=LABEL, now=NOW)
    ).then_refused(WrongShipmentStatus)


# --- ship, deliver, track --------------------------------------------------------------------


def ship(ordered: Order | None = None):
    picked_order = ordered or order(planned(), OrderPickingStarted(shipment_id=SHIPMENT))
    return lambda s: decide.ship(s, picked_order, stock=reserved_stock(), now=LATER)


def test_shipping_commits_the_reservations_and_ships_the_order_lines_together() -> None:
    decision = given([created(), *picked_all(), packed()], fold).when(ship()).decided()
    assert decision == Decision(
        order=[
            OrderLinesShipped(
                shipment_id=SHIPMENT,
                location="BER",
                lines=[LineQuantity(1, 3), LineQuantity(2, 2)],
                shipped_at=LATER,
            )
        ],
        stock={
            ("A", "BER"): [
                StockCommitted(
                    sku="A",
                    location="BER",
                    order_id=ORDER,
                    line_no=1,
                    shipment_id=SHIPMENT,
                    quantity=3,
                )
            ],
            ("B", "BER"): [
                StockCommitted(
                    sku="B",
                    location="BER",
                    order_id=ORDER,
                    line_no=2,
                    shipment_id=SHIPMENT,
                    quantity=2,
                )
            ],
        },
        shipments={SHIPMENT: [shipped()]},
    )
    after = fold_order(
        list(decision.order), order(planned(), OrderPickingStarted(shipment_id=SHIPMENT))
    )
    assert after.status is OrderStatus.SHIPPED
    assert [line.shipped for line in after.lines.values()] == [3, 2]


def test_shipping_a_labelled_shipment_carries_its_tracking_number() -> None:
    labelled = ShipmentLabelled(
        carrier="UPS",
        service="standard",
        tracking_number="1Z123",
        cost=Money.of("8.58", "EUR"),
        label_format="zpl",
        label="",
        labelled_at=NOW,
    )
    decision = given([created(), *picked_all(), packed(), labelled], fold).when(ship()).decided()
    assert decision.shipments[SHIPMENT][0].tracking_number == "1Z123"


def test_an_unpacked_shipment_cannot_ship() -> None:
    given([created(), *picked_all()], fold).when(ship()).then_refused(WrongShipmentStatus)


def test_a_shipped_shipment_does_not_ship_twice() -> None:
    given([created(), *picked_all(), packed(), shipped()], fold).when(ship()).then_refused(
        WrongShipmentStatus
    )


def test_delivering_moves_the_shipment_and_the_order_on() -> None:
    given([created(), *picked_all(), packed(), shipped()], fold).when(
        lambda s: decide.deliver(s, delivered_at=LATER)
    ).then(
        Decision(
            order=[OrderShipmentDelivered(shipment_id=SHIPMENT, delivered_at=LATER)],
            stock={},
            shipments={SHIPMENT: [ShipmentDelivered(delivered_at=LATER)]},
        )
    )


def test_a_repeated_delivery_changes_nothing() -> None:
    given(
        [created(), *picked_all(), packed(), shipped(), ShipmentDelivered(delivered_at=LATER)],
        fold,
    ).when(lambda s: decide.deliver(s, delivered_at=LATER)).then(Decision(order=[], stock={}))


def test_an_unshipped_shipment_cannot_be_delivered() -> None:
    given([created()], fold).when(lambda s: decide.deliver(s, delivered_at=LATER)).then_refused(
        WrongShipmentStatus
    )


def track(status: str, description: str = "scan"):
    return lambda s: decide.track(s, status=status, description=description, occurred_at=LATER)


def test_a_tracking_scan_joins_the_timeline() -> None:
    given([created(), *picked_all(), packed(), shipped()], fold).when(track("in_transit")).then(
        Decision(
            order=[],
            stock={},
            shipments={
                SHIPMENT: [
                    ShipmentTrackingUpdated(
                        status="in_transit", description="scan", occurred_at=LATER
                    )
                ]
            },
        )
    )


def test_a_carrier_exception_is_recorded() -> None:
    decision = (
        given([created(), *picked_all(), packed(), shipped()], fold)
        .when(track("exception", "address unknown"))
        .decided()
    )
    assert decision.shipments[SHIPMENT] == [
        ShipmentExceptionRecorded(description="address unknown", occurred_at=LATER)
    ]
    assert fold(decision.shipments[SHIPMENT], fold([created()])).exceptions == 1


def test_a_delivered_scan_delivers() -> None:
    decision = (
        given([created(), *picked_all(), packed(), shipped()], fold)
        .when(track("delivered"))
        .decided()
    )
    assert decision.shipments[SHIPMENT] == [ShipmentDelivered(delivered_at=LATER)]


def test_tracking_before_shipping_is_refused() -> None:
    given([created()], fold).when(track("in_transit")).then_refused(WrongShipmentStatus)


def test_an_unknown_tracking_status_is_refused() -> None:
    given([created(), *picked_all(), packed(), shipped()], fold).when(track("lost")).then_refused(
        InvalidCommand
    )


def test_the_timeline_follows_the_shipment_through_its_life() -> None:
    state = fold(
        [created(), *picked_all(), packed(), shipped(), ShipmentDelivered(delivered_at=LATER)]
    )
    assert [str(step.status) for step in state.timeline] == [
        "created",
        "picking",
        "picked",
        "packed",
        "shipped",
        "delivered",
    ]
    assert state.status is ShipmentStatus.DELIVERED


def test_order_status_follows_its_shipments() -> None:
    assert order(planned()).status is OrderStatus.ALLOCATED
    assert order(planned(), OrderPickingStarted(shipment_id=SHIPMENT)).status is OrderStatus.PICKING
    partial = order(
        planned(),
        OrderLinesShipped(
            shipment_id=SHIPMENT, location="BER", lines=[LineQuantity(1, 3)], shipped_at=LATER
        ),
    )
    assert partial.status is OrderStatus.PARTIALLY_SHIPPED


def test_a_shipment_known_only_from_its_shipped_event_still_folds() -> None:
    state = fold([shipped()])
    assert (state.id, state.order_id, state.status) == (SHIPMENT, ORDER, ShipmentStatus.SHIPPED)
    assert [(line.sku, line.picked) for line in state.lines.values()] == [("A", 3), ("B", 2)]
