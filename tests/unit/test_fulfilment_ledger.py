"""The stock ledger under random fulfilment: orders, shipments, picks (short and re-routed),
cancels, edits, expiry, returns, receipts, adjustments and transfers, all through the pure deciders.

For every SKU x location: on_hand = received + adjustments + transfers in - transfers out -
shipped + restocked (counted from the events themselves); reserved = the sum of open
reservations; 0 <= reserved <= on_hand; no reservation ends more units than it holds (nothing
ends twice); and no order line ships more than was ordered and not cancelled.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.location.model import Location
from domain.order import decide as order_decide
from domain.order.decide import Decision, LineChange, PlaceOrder, RequestedLine
from domain.order.events import Address, Customer
from domain.order.state import Order
from domain.order.state import fold as fold_order
from domain.product.model import Dimensions, Product
from domain.returns import decide as returns
from domain.returns.decide import ReceivedUnits, RequestedReturn
from domain.returns.state import Return
from domain.returns.state import fold as fold_return
from domain.shared.errors import DomainError
from domain.shipment import decide as shipment_decide
from domain.shipment.decide import PickCount
from domain.shipment.events import Parcel, ParcelLine
from domain.shipment.state import Shipment, ShipmentStatus
from domain.shipment.state import fold as fold_shipment
from domain.stock import decide as stock_rules
from domain.stock.events import (
    StockAdjusted,
    StockCommitted,
    StockEvent,
    StockReceived,
    StockReservationExpired,
    StockReservationReleased,
    StockReserved,
    StockRestocked,
    StockTransferredIn,
    StockTransferredOut,
)
from domain.stock.state import Stock, evolve
from domain.store.model import Store

T = TypeVar("T")
SKUS = ("A", "B")
LOCATIONS = (
    Location(code="BER", name="Berlin", country="DE", region="BE", exists=True),
    Location(code="MUC", name="Munich", country="DE", region="BY", exists=True),
)
CODES = tuple(loc.code for loc in LOCATIONS)
KEYS = tuple((sku, code) for sku in SKUS for code in CODES)
PRODUCTS = {
    sku: Product(sku=sku, name=sku, dimensions=Dimensions(1, 1, 1), exists=True) for sku in SKUS
}
TO = Address(name="n", line1="l", city="c", postal_code="10115", country="DE", region="BE")
NOW = datetime(2025, 1, 1, tzinfo=UTC)
TTL = timedelta(minutes=30)
ENDINGS = (StockReservationReleased, StockReservationExpired, StockCommitted)


class FulfilmentLedger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stock: dict[tuple[str, str], Stock] = {key: Stock() for key in KEYS}
        self.orders: dict[UUID, Order] = {}
        self.shipments: dict[UUID, Shipment] = {}
        self.returns: dict[UUID, Return] = {}
        self.flows: dict[tuple[str, str], Counter[str]] = {key: Counter() for key in KEYS}
        self.reserved: Counter[tuple[tuple[str, str], UUID, int]] = Counter()
        self.ended: Counter[tuple[tuple[str, str], UUID, int]] = Counter()
        self.ids = 0

    # --- helpers ---------------------------------------------------------------------------

    def new_id(self) -> UUID:
        self.ids += 1
        return UUID(int=self.ids)

    def attempt(self, command: Callable[[], T]) -> T | None:
        """A refusal must leave every state untouched."""
        before = copy.deepcopy((self.stock, self.orders, self.shipments, self.returns))
        try:
            decided = command()
        except DomainError:
            decided = None
        assert (self.stock, self.orders, self.shipments, self.returns) == before
        return decided

    def apply_stock(self, key: tuple[str, str], events: list[StockEvent]) -> None:
        for event in stock_rules.flag_low_stock(self.stock[key], list(events)):
            assert (event.sku, event.location) == key
            if isinstance(event, ENDINGS):
                hold = (key, event.order_id, event.line_no)
                # never more than the reservation still holds: no unit ends twice
                assert self.ended[hold] + event.quantity <= self.reserved[hold]
                self.ended[hold] += event.quantity
            if isinstance(event, StockReserved):
                self.reserved[(key, event.order_id, event.line_no)] += event.quantity
            flows = self.flows[key]
            if isinstance(event, StockReceived):
                flows["received"] += event.quantity
            elif isinstance(event, StockAdjusted):
                flows["adjusted"] += event.delta
            elif isinstance(event, StockTransferredIn):
                flows["in"] += event.quantity
            elif isinstance(event, StockTransferredOut):
                flows["out"] += event.quantity
            elif isinstance(event, StockCommitted):
                flows["shipped"] += event.quantity
            elif isinstance(event, StockRestocked):
                flows["restocked"] += event.quantity
            self.stock[key] = evolve(event, self.stock[key])

    def apply(self, order_id: UUID, decision: Decision) -> None:
        self.orders[order_id] = fold_order(list(decision.order), self.orders.get(order_id))
        for key, events in decision.stock.items():
            self.apply_stock(key, list(events))
        for shipment_id, events in decision.shipments.items():
            self.shipments[shipment_id] = fold_shipment(
                list(events), self.shipments.get(shipment_id)
            )

    def pick_one(self, data: st.DataObject, pool: dict[UUID, T]) -> tuple[UUID, T]:
        key = data.draw(st.sampled_from(sorted(pool)))
        return key, pool[key]

    # --- stock -----------------------------------------------------------------------------

    @rule(key=st.sampled_from(KEYS), quantity=st.integers(5, 20))
    def receive(self, key: tuple[str, str], quantity: int) -> None:
        events = stock_rules.receive(
            self.stock[key], sku=key[0], location=key[1], quantity=quantity
        )
        self.apply_stock(key, list(events))

    @rule(key=st.sampled_from(KEYS), delta=st.integers(-5, 5))
    def adjust(self, key: tuple[str, str], delta: int) -> None:
        events = self.attempt(
            lambda: stock_rules.adjust(
                self.stock[key], sku=key[0], location=key[1], reason="count", delta=delta
            )
        )
        if events is not None:
            self.apply_stock(key, list(events))

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 6), forward=st.booleans())
    def transfer(self, sku: str, quantity: int, forward: bool) -> None:
        source, target = CODES if forward else CODES[::-1]
        moved = self.attempt(
            lambda: stock_rules.transfer(
                self.stock[(sku, source)],
                sku=sku,
                from_location=source,
                to_location=target,
                quantity=quantity,
                transfer_id=self.new_id(),
            )
        )
        if moved is not None:
            self.apply_stock((sku, source), list(moved[0]))
            self.apply_stock((sku, target), list(moved[1]))

    @rule(key=st.sampled_from(KEYS), reorder=st.integers(0, 4), safety=st.integers(0, 2))
    def policy(self, key: tuple[str, str], reorder: int, safety: int) -> None:
        events = stock_rules.set_policy(
            self.stock[key], sku=key[0], location=key[1], reorder_point=reorder, safety_stock=safety
        )
        self.apply_stock(key, list(events))

    # --- orders ----------------------------------------------------------------------------

    @rule(
        lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 5)), min_size=1, max_size=3),
        backorders=st.booleans(),
    )
    def place(self, lines: list[tuple[str, int]], backorders: bool) -> None:
        order_id = self.new_id()
        command = PlaceOrder(
            order_id=order_id,
            store="web",
            channel="web",
            external_id=None,
            currency="EUR",
            customer=Customer("a@b.c", "A"),
            shipping_address=TO,
            lines=[RequestedLine(sku, qty, Decimal("1.00")) for sku, qty in lines],
            placed_at=NOW,
        )
        store = Store(code="web", currency="EUR", allow_backorders=backorders, exists=True)
        decision = self.attempt(
            lambda: order_decide.place(
                Order(),
                command,
                store=store,
                products=PRODUCTS,
                stock=self.stock,
                locations=LOCATIONS,
            )
        )
        if decision is not None:
            self.apply(order_id, decision)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), everything=st.booleans())
    def cancel(self, data: st.DataObject, everything: bool) -> None:
        order_id, order = self.pick_one(data, self.orders)
        if data.draw(st.integers(0, 2)):
            return  # most orders are not cancelled
        lines = None
        if not everything and order.lines:
            line_no = data.draw(st.sampled_from(sorted(order.lines)))
            lines = {line_no: data.draw(st.integers(1, 3))}
        decision = self.attempt(
            lambda: order_decide.cancel(
                order, stock=self.stock, reason="changed", lines=lines, now=NOW
            )
        )
        if decision is not None:
            self.apply(order_id, decision)

    @precondition(lambda self: self.orders)
    @rule(
        data=st.data(),
        added=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4)), max_size=2),
        backorders=st.booleans(),
    )
    def edit(self, data: st.DataObject, added: list[tuple[str, int]], backorders: bool) -> None:
        order_id, order = self.pick_one(data, self.orders)
        changes = [
            LineChange(no, data.draw(st.integers(0, 6), label=f"line {no}"))
            for no in data.draw(st.lists(st.sampled_from(sorted(order.lines)), unique=True))
        ]
        store = Store(code="web", currency="EUR", allow_backorders=backorders, exists=True)
        decision = self.attempt(
            lambda: order_decide.edit(
                order,
                changes=changes,
                added=[RequestedLine(sku, qty, Decimal("1.00")) for sku, qty in added],
                store=store,
                products=PRODUCTS,
                stock=self.stock,
                locations=LOCATIONS,
                now=NOW,
            )
        )
        if decision is not None:
            self.apply(order_id, decision)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        order_id, order = self.pick_one(data, self.orders)
        if data.draw(st.integers(0, 3)):
            return  # most orders are confirmed in time
        decision = order_decide.expire(order, stock=self.stock, ttl=TTL, now=NOW + TTL)
        self.apply(order_id, decision)

    # --- shipments -------------------------------------------------------------------------

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), location=st.sampled_from(CODES))
    def create_shipment(self, data: st.DataObject, location: str) -> None:
        order_id, order = self.pick_one(data, self.orders)
        shipment_id = self.new_id()
        decision = self.attempt(
            lambda: shipment_decide.create(
                order,
                shipment_id=shipment_id,
                location=location,
                lines=None,
                priority="standard",
                now=NOW,
            )
        )
        if decision is not None:
            self.apply(order_id, decision)

    @precondition(lambda self: self.shipments)
    @rule(data=st.data(), reroute=st.booleans())
    def pick(self, data: st.DataObject, reroute: bool) -> None:
        _, shipment = self.pick_one(data, self.shipments)
        assert shipment.order_id is not None
        counts = []
        for line in shipment.lines.values():
            if line.to_pick <= 0:
                continue
            short = min(data.draw(st.sampled_from([0, 0, 1, line.to_pick])), line.to_pick)
            left = line.to_pick - short
            picked = min(data.draw(st.sampled_from([left, left, 0, 1])), left)
            if picked + short:
                counts.append(PickCount(line.line_no, picked, short))
        order = self.orders[shipment.order_id]
        decision = self.attempt(
            lambda: shipment_decide.pick(
                shipment,
                order,
                counts=counts,
                stock=self.stock,
                reroute=reroute,
                locations=LOCATIONS,
                now=NOW,
            )
        )
        if decision is not None:
            self.apply(shipment.order_id, decision)

    @precondition(lambda self: self.shipments)
    @rule(data=st.data())
    def pack_and_ship(self, data: st.DataObject) -> None:
        self.pack_and_ship_one(self.pick_one(data, self.shipments)[0])

    def pack_and_ship_one(self, shipment_id: UUID) -> None:
        shipment = self.shipments[shipment_id]
        assert shipment.order_id is not None
        if shipment.status is ShipmentStatus.PICKED:
            parcel = Parcel(
                length_mm=100,
                width_mm=100,
                height_mm=100,
                weight_grams=100,
                lines=[
                    ParcelLine(line.line_no, line.picked)
                    for line in shipment.lines.values()
                    if line.picked
                ],
            )
            packed = shipment_decide.pack(shipment, parcels=[parcel], now=NOW)
            shipment = self.shipments[shipment_id] = fold_shipment(list(packed), shipment)
        order = self.orders[shipment.order_id]
        decision = self.attempt(
            lambda: shipment_decide.ship(shipment, order, stock=self.stock, now=NOW)
        )
        if decision is not None:
            self.apply(shipment.order_id, decision)

    @precondition(lambda self: self.shipments)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        _, shipment = self.pick_one(data, self.shipments)
        assert shipment.order_id is not None
        decision = self.attempt(lambda: shipment_decide.deliver(shipment, delivered_at=NOW))
        if decision is not None:
            self.apply(shipment.order_id, decision)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), short=st.booleans())
    def fulfil(self, data: st.DataObject, short: bool) -> None:
        """Create, pick (one unit short, if asked), pack and ship in one go, from a location
        where the order holds stock."""
        order_id, order = self.pick_one(data, self.orders)
        held = sorted({loc for line in order.lines.values() for loc in line.allocations})
        location = data.draw(st.sampled_from(held or list(CODES)))
        shipment_id = self.new_id()
        decision = self.attempt(
            lambda: shipment_decide.create(
                order,
                shipment_id=shipment_id,
                location=location,
                lines=None,
                priority="standard",
                now=NOW,
            )
        )
        if decision is None:
            return
        self.apply(order_id, decision)
        shipment = self.shipments[shipment_id]
        counts = [
            PickCount(line.line_no, line.quantity - int(short and no == 0), int(short and no == 0))
            for no, line in enumerate(shipment.lines.values())
        ]
        self.apply(
            order_id,
            shipment_decide.pick(
                shipment, self.orders[order_id], counts=counts, stock=self.stock, now=NOW
            ),
        )
        self.pack_and_ship_one(shipment_id)

    # --- returns ---------------------------------------------------------------------------

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), sku=st.sampled_from(SKUS), quantity=st.integers(1, 3))
    def authorize_return(self, data: st.DataObject, sku: str, quantity: int) -> None:
        order_id, order = self.pick_one(data, self.orders)
        return_id = self.new_id()
        decided = self.attempt(
            lambda: returns.authorize(
                order,
                return_id=return_id,
                lines=[RequestedReturn(sku, quantity, "changed_mind")],
                window=timedelta(days=30),
                now=NOW,
            )
        )
        if decided is not None:
            order_events, return_events = decided
            self.orders[order_id] = fold_order(list(order_events), order)
            self.returns[return_id] = fold_return(list(return_events))

    @precondition(lambda self: self.returns)
    @rule(data=st.data(), location=st.sampled_from(CODES), damaged=st.booleans())
    def receive_return(self, data: st.DataObject, location: str, damaged: bool) -> None:
        return_id, rma = self.pick_one(data, self.returns)
        units = [
            ReceivedUnits(sku, qty, "damaged" if damaged else "sellable")
            for sku, qty in rma.expected().items()
        ]
        decided = self.attempt(
            lambda: returns.receive(rma, location=location, lines=units, stock=self.stock, now=NOW)
        )
        if decided is not None:
            return_events, stock_events = decided
            self.returns[return_id] = fold_return(list(return_events), rma)
            for key, events in stock_events.items():
                self.apply_stock(key, list(events))

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def on_hand_is_the_sum_of_its_flows(self) -> None:
        for key, state in self.stock.items():
            f = self.flows[key]
            assert state.on_hand == (
                f["received"] + f["adjusted"] + f["in"] - f["out"] - f["shipped"] + f["restocked"]
            )

    @invariant()
    def reserved_is_the_sum_of_open_reservations(self) -> None:
        for key, state in self.stock.items():
            open_holds = {
                (order_id, line_no): self.reserved[(k, order_id, line_no)] - ended
                for (k, order_id, line_no), ended in (self.ended | Counter()).items()
                if k == key
            }
            total = sum(q for (k, _, _), q in self.reserved.items() if k == key) - sum(
                q for (k, _, _), q in self.ended.items() if k == key
            )
            assert state.reserved == total == sum(state.holds.values())
            assert 0 <= state.reserved <= state.on_hand
            for (order_id, line_no), still in open_holds.items():
                assert state.held(order_id, line_no) == still

    @invariant()
    def no_line_ships_more_than_was_ordered(self) -> None:
        for order in self.orders.values():
            for line in order.lines.values():
                assert 0 <= line.shipped <= line.open_quantity
                assert line.returned <= line.shipped

    @invariant()
    def order_allocations_match_the_reservations(self) -> None:
        for order_id, order in self.orders.items():
            for line in order.lines.values():
                for location, quantity in line.allocations.items():
                    assert self.stock[(line.sku, location)].held(order_id, line.line_no) == quantity


TestFulfilmentLedger = FulfilmentLedger.TestCase
TestFulfilmentLedger.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
