"""Invariants of the stock ledger and of placing orders against it, under random command sequences.

The state machine drives the pure decide functions over 2 SKUs x 3 locations, with raw
reservations for a few orders and whole orders placed and cancelled through the order aggregate.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.location.model import Location
from domain.order import decide as order_decide
from domain.order.decide import PlaceOrder, RequestedLine
from domain.order.events import Address, Customer, OrderEvent
from domain.order.state import Order, OrderStatus
from domain.order.state import fold as fold_order
from domain.product.model import Dimensions, Product
from domain.shared.errors import DomainError
from domain.shared.money import Money
from domain.stock import decide
from domain.stock.errors import InsufficientStock
from domain.stock.events import StockAdjusted, StockEvent, StockReceived, StockReserved
from domain.stock.state import Stock, evolve, fold
from domain.store.model import Store

T = TypeVar("T")
SKUS = ("A", "B")
LOCATIONS = (
    Location(code="BER", name="Berlin", country="DE", region="BE", exists=True),
    Location(code="MUC", name="Munich", country="DE", region="BY", exists=True),
    Location(code="PAR", name="Paris", country="FR", region="IDF", exists=True),
)
CODES = tuple(loc.code for loc in LOCATIONS)
KEYS = tuple((sku, code) for sku in SKUS for code in CODES)
RAW_ORDERS = tuple(UUID(int=n) for n in (1, 2, 3))
PRODUCTS = {
    sku: Product(sku=sku, name=sku, dimensions=Dimensions(1, 1, 1), exists=True) for sku in SKUS
}
COSTS = st.sampled_from(
    [
        None,
        Money.of("1.00", "EUR"),
        Money.of("2.35", "EUR"),
        Money.of("0", "EUR"),
        Money.of("1.00", "USD"),  # refused once a stream is costed in EUR
    ]
)
DESTINATIONS = st.sampled_from(
    [
        Address(name="n", line1="l", city="c", postal_code="p", country=country, region=region)
        for country, region in (
            ("DE", "BE"),
            ("DE", "BY"),
            ("DE", None),
            ("FR", "IDF"),
            ("US", None),
        )
    ]
)
ORDER_LINES = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(0, 6)), max_size=3)
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def store(allow_backorders: bool) -> Store:
    return Store(code="web", currency="EUR", allow_backorders=allow_backorders, exists=True)


def place_command(order_id: UUID, lines: list[tuple[str, int]], to: Address) -> PlaceOrder:
    return PlaceOrder(
        order_id=order_id,
        store="web",
        channel="web",
        external_id=None,
        currency="EUR",
        customer=Customer(email="a@b.c", name="A"),
        shipping_address=to,
        lines=[RequestedLine(sku, qty, Decimal("1.00")) for sku, qty in lines],
        placed_at=NOW,
    )


class StockLedger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.events: dict[tuple[str, str], list[StockEvent]] = {key: [] for key in KEYS}
        self.live: dict[tuple[str, str], Stock] = {key: Stock() for key in KEYS}
        self.received = dict.fromkeys(SKUS, 0)
        self.adjusted = dict.fromkeys(SKUS, 0)
        self.order_events: dict[UUID, list[OrderEvent]] = {}
        self.orders: dict[UUID, Order] = {}

    # --- helpers ---

    def attempt(self, command: Callable[[], T]) -> T | None:
        """Runs a decision; a refusal (or the decision itself) must leave all state untouched."""
        before = copy.deepcopy((self.live, self.orders))
        try:
            decided = command()
        except DomainError:
            decided = None
        assert (self.live, self.orders) == before
        return decided

    def apply(self, key: tuple[str, str], events: list[Any]) -> None:
        for event in events:
            assert (event.sku, event.location) == key
            self.live[key] = evolve(event, self.live[key])
            self.events[key].append(event)
            if isinstance(event, StockReceived):
                self.received[event.sku] += event.quantity
            elif isinstance(event, StockAdjusted):
                self.adjusted[event.sku] += event.delta

    def apply_order(self, order_id: UUID, events: list[OrderEvent]) -> None:
        self.order_events.setdefault(order_id, []).extend(events)
        self.orders[order_id] = fold_order(events, self.orders.get(order_id))

    # --- stock commands ---

    @rule(key=st.sampled_from(KEYS), quantity=st.integers(-1, 20), cost=COSTS)
    def receive(self, key: tuple[str, str], quantity: int, cost: Money | None) -> None:
        events = self.attempt(
            lambda: decide.receive(
                self.live[key], sku=key[0], location=key[1], quantity=quantity, unit_cost=cost
            )
        )
        if events is not None:
            self.apply(key, events)

    @rule(
        key=st.sampled_from(KEYS),
        order_id=st.sampled_from(RAW_ORDERS),
        quantity=st.integers(-1, 8),
    )
    def reserve(self, key: tuple[str, str], order_id: UUID, quantity: int) -> None:
        available = self.live[key].available
        events = self.attempt(
            lambda: decide.reserve(
                self.live[key], sku=key[0], location=key[1], order_id=order_id, quantity=quantity
            )
        )
        assert (events is not None) == (0 < quantity <= available)
        if events is not None:
            self.apply(key, events)

    @rule(
        key=st.sampled_from(KEYS),
        order_id=st.sampled_from(RAW_ORDERS),
        quantity=st.none() | st.integers(-1, 8),
    )
    def release(self, key: tuple[str, str], order_id: UUID, quantity: int | None) -> None:
        events = self.attempt(
            lambda: decide.release(
                self.live[key], order_id=order_id, reason="cancelled", quantity=quantity
            )
        )
        if events is not None:
            self.apply(key, events)

    @rule(
        key=st.sampled_from(KEYS),
        counted=st.none() | st.integers(-1, 25),
        delta=st.none() | st.integers(-10, 10),
        reason=st.sampled_from(["cycle count", "damaged", " "]),
    )
    def adjust(
        self, key: tuple[str, str], counted: int | None, delta: int | None, reason: str
    ) -> None:
        events = self.attempt(
            lambda: decide.adjust(
                self.live[key],
                sku=key[0],
                location=key[1],
                reason=reason,
                counted=counted,
                delta=delta,
            )
        )
        if events is not None:
            self.apply(key, events)

    @rule(
        sku=st.sampled_from(SKUS),
        source=st.sampled_from(CODES),
        destination=st.sampled_from(CODES),
        quantity=st.integers(-1, 10),
        n=st.integers(0, 10**6),
    )
    def transfer(self, sku: str, source: str, destination: str, quantity: int, n: int) -> None:
        decided = self.attempt(
            lambda: decide.transfer(
                self.live[(sku, source)],
                sku=sku,
                from_location=source,
                to_location=destination,
                quantity=quantity,
                transfer_id=UUID(int=n),
            )
        )
        if decided is not None:
            out, into = decided
            self.apply((sku, source), out)
            self.apply((sku, destination), into)

    # --- orders placed and cancelled through the order aggregate ---

    @rule(lines=ORDER_LINES, allow_backorders=st.booleans(), to=DESTINATIONS)
    def place(self, lines: list[tuple[str, int]], allow_backorders: bool, to: Address) -> None:
        order_id = UUID(int=1000 + len(self.order_events))
        available = {key: state.available for key, state in self.live.items()}
        decision = self.attempt(
            lambda: order_decide.place(
                Order(),
                place_command(order_id, lines, to),
                store=store(allow_backorders),
                products=PRODUCTS,
                stock=self.live,
                locations=LOCATIONS,
            )
        )
        if decision is None:
            return
        for key, events in decision.stock.items():
            assert sum(e.quantity for e in events if isinstance(e, StockReserved)) <= available[key]
            self.apply(key, events)
        self.apply_order(order_id, decision.order)
        if not allow_backorders:
            assert self.orders[order_id].status is OrderStatus.ALLOCATED

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if not self.orders:
            return
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        order = self.orders[order_id]
        line_no = st.integers(1, len(order.lines) + 1)  # one past the end: an unknown line
        quantity = st.integers(1, 2) | st.integers(-1, 7)
        lines = data.draw(
            st.none()
            | st.dictionaries(line_no, quantity, min_size=1, max_size=1)
            | st.dictionaries(line_no, quantity, min_size=2, max_size=2)
        )
        decision = self.attempt(
            lambda: order_decide.cancel(order, stock=self.live, reason="changed mind", lines=lines)
        )
        if decision is None:
            return
        for key, events in decision.stock.items():
            self.apply(key, events)
        self.apply_order(order_id, decision.order)

    # --- invariants ---

    @invariant()
    def reserved_stays_between_zero_and_on_hand(self) -> None:
        for state in self.live.values():
            assert 0 <= state.reserved <= state.on_hand

    @invariant()
    def reservations_per_order_sum_to_reserved(self) -> None:
        for state in self.live.values():
            assert sum(state.reservations.values()) == state.reserved
            assert all(quantity > 0 for quantity in state.reservations.values())

    @invariant()
    def on_hand_across_locations_is_received_plus_adjusted(self) -> None:
        for sku in SKUS:
            on_hand = sum(self.live[(sku, code)].on_hand for code in CODES)
            assert on_hand == self.received[sku] + self.adjusted[sku]

    @invariant()
    def replaying_the_events_gives_the_live_state(self) -> None:
        for key, events in self.events.items():
            assert fold(events) == self.live[key]
        for order_id, events in self.order_events.items():
            assert fold_order(events) == self.orders[order_id]

    @invariant()
    def each_order_holds_exactly_the_stock_its_lines_say(self) -> None:
        for order_id, order in self.orders.items():
            held: dict[tuple[str, str], int] = defaultdict(int)
            for line in order.lines.values():
                for code, quantity in line.allocations.items():
                    held[(line.sku, code)] += quantity
                assert line.allocated + line.backordered == line.open_quantity
            for key in KEYS:
                assert self.live[key].reserved_for(order_id) == held.get(key, 0)
            if order.status is OrderStatus.CANCELLED:
                assert not held


TestStockLedger = StockLedger.TestCase
TestStockLedger.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- replay equals live state, for any split of the history ------------------------------------

STEPS = st.lists(
    st.tuples(st.sampled_from(["receive", "reserve", "release", "adjust"]), st.integers(-2, 9)),
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(steps=STEPS, split=st.integers(0, 30))
def test_folding_the_history_equals_evolving_it_step_by_step(
    steps: list[tuple[str, int]], split: int
) -> None:
    commands: dict[str, Callable[[Stock, int], list[Any]]] = {
        "receive": lambda s, n: decide.receive(
            s, sku="A", location="BER", quantity=n, unit_cost=Money.of(n, "EUR")
        ),
        "reserve": lambda s, n: decide.reserve(
            s, sku="A", location="BER", order_id=RAW_ORDERS[n % 3], quantity=n
        ),
        "release": lambda s, n: decide.release(s, order_id=RAW_ORDERS[n % 3], reason="r"),
        "adjust": lambda s, n: decide.adjust(s, sku="A", location="BER", reason="r", delta=n),
    }
    state, history = Stock(), []
    for name, n in steps:
        try:
            events = commands[name](state, n)
        except DomainError:
            continue
        for event in events:
            state = evolve(event, state)
            history.append(event)
    assert fold(history) == state
    assert fold(history[split:], fold(history[:split])) == state


# --- placing an order never reserves more than is available ------------------------------------

LEVELS = st.dictionaries(
    st.sampled_from(KEYS),
    st.tuples(st.integers(0, 6), st.integers(0, 6)).map(lambda t: (max(t), min(t))),
)


@settings(max_examples=150, deadline=None)
@given(
    levels=LEVELS,
    lines=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=4),
    allow_backorders=st.booleans(),
    to=DESTINATIONS,
)
def test_placing_an_order_never_reserves_more_than_is_available(
    levels: dict[tuple[str, str], tuple[int, int]],
    lines: list[tuple[str, int]],
    allow_backorders: bool,
    to: Address,
) -> None:
    stock: dict[tuple[str, str], Stock] = {}
    for (sku, code), (on_hand, taken) in levels.items():
        events: list[Any] = [StockReceived(sku=sku, location=code, quantity=on_hand)]
        if taken:
            events.append(
                StockReserved(sku=sku, location=code, order_id=UUID(int=9), quantity=taken)
            )
        stock[(sku, code)] = fold(events)
    wanted = {sku: sum(q for s, q in lines if s == sku) for sku in SKUS}
    free = {sku: sum(s.available for (k, _), s in stock.items() if k == sku) for sku in SKUS}
    short = any(wanted[sku] > free[sku] for sku in SKUS)

    try:
        decision = order_decide.place(
            Order(),
            place_command(UUID(int=1), lines, to),
            store=store(allow_backorders),
            products=PRODUCTS,
            stock=stock,
            locations=LOCATIONS,
        )
    except InsufficientStock:
        assert short
        assert not allow_backorders
        return
    assert allow_backorders or not short

    for key, events in decision.stock.items():
        assert key in stock
        assert sum(e.quantity for e in events) <= stock[key].available
        after = fold(list(events), stock[key])
        assert 0 <= after.reserved <= after.on_hand

    order = fold_order(decision.order)
    for line in order.lines.values():
        assert line.allocated + line.backordered == line.quantity
    for sku in SKUS:
        allocated = sum(line.allocated for line in order.lines.values() if line.sku == sku)
        # Nothing is backordered that some location could have filled.
        assert allocated == min(wanted[sku], free[sku])
