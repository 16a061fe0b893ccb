"""No oversell under concurrency: many clients racing for one scarce SKU.

Exactly the available units are reserved, every other request is refused with 409
`insufficient_stock` (never a 500, never a concurrency error), and afterwards both a fold of the
events and the inventory projection say on hand 10 / reserved 10.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

from application.context import CommandContext
from application.orders import NewOrder
from application.ports import ConcurrencyConflict
from application.stock import ReceiptLine
from domain.order.decide import RequestedLine
from domain.order.events import Address, Customer
from domain.product.model import Dimensions
from domain.shared.errors import DomainError
from domain.shared.ids import stock_stream_id
from domain.shared.money import Money
from domain.stock.state import Stock, fold
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from interfaces.http.app import create_app
from projections.runner import start_runners, wait_until_caught_up

pytestmark = pytest.mark.slow

UNITS = 10
CLIENTS = 24


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=4)
    yield built
    built.close()


@pytest.fixture(scope="module")
def second_process(settings: Settings) -> Iterator[Container]:
    """Another composition root on the same database: its own caches and in-process locks,
    like a second API process."""
    built = build_container(settings, pool_size=4)
    yield built
    built.close()


def ctx(tenant_id: UUID) -> CommandContext:
    return CommandContext(tenant_id=tenant_id, actor="test:concurrency", request_id=uuid4().hex)


def scarce_sku(container: Container, tenant_id: UUID | None = None) -> UUID:
    """A tenant with one store (no backorders), one location and UNITS of SCARCE there."""
    tenant_id = tenant_id or uuid4()
    c = ctx(tenant_id)
    container.catalog_commands.open_store(
        c, code="web", name="Web", currency="EUR", allow_backorders=False
    )
    container.catalog_commands.open_location(
        c, code="BER", name="Berlin", country="DE", region="BE"
    )
    container.catalog_commands.define_product(
        c,
        sku="SCARCE",
        name="Scarce thing",
        weight_grams=100,
        dimensions=Dimensions(1, 1, 1),
        prices={"web": Money.of("5.00", "EUR")},
        unit_cost=None,
    )
    container.stock.receive(c, location="BER", lines=[ReceiptLine("SCARCE", UNITS)])
    return tenant_id


def one_unit_order() -> NewOrder:
    return NewOrder(
        store="web",
        channel="web",
        external_id=None,
        currency="EUR",
        customer=Customer("race@example.com", "Racer"),
        shipping_address=Address(
            name="Racer", line1="Street 1", city="Berlin", postal_code="10115", country="DE"
        ),
        lines=[RequestedLine("SCARCE", 1, Decimal("5.00"))],
    )


def race(attempts: list[Callable[[], str]]) -> Counter[str]:
    """Runs every attempt in its own thread, all released at once; counts their outcomes."""
    start = threading.Barrier(len(attempts))

    def run(attempt: Callable[[], str]) -> str:
        start.wait()
        return attempt()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return Counter(pool.map(run, attempts))


def place_with(container: Container, tenant_id: UUID) -> Callable[[], str]:
    def attempt() -> str:
        try:
            container.orders.place(ctx(tenant_id), one_unit_order())
        except DomainError as refused:
            return refused.code
        return "placed"

    return attempt


def folded_stock(container: Container, tenant_id: UUID) -> Stock:
    stream = stock_stream_id(tenant_id, "SCARCE", "BER")
    events = container.store.load({stream: 0})[stream]
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    return fold([e.event for e in events])


def projected_level(container: Container, tenant_id: UUID) -> tuple[int, int, int]:
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)
        wait_until_caught_up(container.datastore, timeout=30)
    with container.datastore.transaction() as curs:
        curs.execute(
            "SELECT on_hand, reserved, available FROM inventory_levels "
            "WHERE tenant_id = %s AND sku = 'SCARCE' AND location = 'BER'",
            (tenant_id,),
        )
        row = curs.fetchone()
    assert row is not None
    return row["on_hand"], row["reserved"], row["available"]


def assert_no_oversell(container: Container, tenant_id: UUID, outcomes: Counter[str]) -> None:
    assert outcomes == Counter({"placed": UNITS, "insufficient_stock": CLIENTS - UNITS})
    stock = folded_stock(container, tenant_id)
    assert (stock.on_hand, stock.reserved, stock.available) == (UNITS, UNITS, 0)
    assert len(stock.reservations) == UNITS
    assert set(stock.reservations.values()) == {1}
    assert projected_level(container, tenant_id) == (UNITS, UNITS, 0)


def test_threads_racing_through_the_application_layer_never_oversell(
    container: Container,
) -> None:
    tenant_id = scarce_sku(container)

    outcomes = race([place_with(container, tenant_id) for _ in range(CLIENTS)])

    assert_no_oversell(container, tenant_id, outcomes)


def test_two_processes_racing_on_one_sku_retry_their_conflicts_and_never_oversell(
    container: Container, second_process: Container
) -> None:
    tenant_id = scarce_sku(container)

    with counting(container, second_process) as appends:
        outcomes = race(
            [place_with((container, second_process)[n % 2], tenant_id) for n in range(CLIENTS)]
        )

    assert_no_oversell(container, tenant_id, outcomes)
    # Every conflict was retried: exactly one successful append per placed order.
    assert appends["appends"] - appends["conflicts"] == UNITS, appends


def test_a_writer_that_loses_a_race_to_another_process_reloads_and_retries(
    container: Container, second_process: Container
) -> None:
    """Deterministic: process A has loaded and decided when process B appends to the same stock
    stream; A's append conflicts, A reloads, decides again and succeeds."""
    tenant_id = scarce_sku(container)
    executor = container.orders.executor
    real = executor.store
    interfered = threading.Event()
    conflicts: list[str] = []

    class InterferingStore:
        def load(self, after: Any) -> Any:
            return real.load(after)

        def append(self, appends: Any, metadata: Any, **kwargs: Any) -> None:
            if not interfered.is_set():
                interfered.set()
                second_process.orders.place(ctx(tenant_id), one_unit_order())
            try:
                real.append(appends, metadata, **kwargs)
            except ConcurrencyConflict as conflict:
                conflicts.append(str(conflict))
                raise

    executor.store = InterferingStore()  # type: ignore[assignment]
    try:
        placed = container.orders.place(ctx(tenant_id), one_unit_order())
    finally:
        executor.store = real

    assert len(conflicts) == 1
    assert placed.created
    stock = folded_stock(container, tenant_id)
    assert (stock.on_hand, stock.reserved) == (UNITS, 2)
    assert placed.order.state.id in stock.reservations


def test_http_clients_racing_for_the_last_units_get_201_or_409_and_never_a_500(
    container: Container,
) -> None:
    created = container.tenants.create(f"race-{uuid4().hex[:6]}")
    tenant_id = scarce_sku(container, created.tenant_id)
    headers = {"Authorization": f"Bearer {created.api_key}"}
    body = {
        "store": "web",
        "channel": "web",
        "currency": "EUR",
        "customer": {"email": "race@example.com", "name": "Racer"},
        "shipping_address": {
            "name": "Racer", "line1": "Street 1", "city": "Berlin", "postal_code": "10115",
            "country": "DE",
        },
        "lines": [{"sku": "SCARCE", "quantity": 1, "unit_price": "5.00"}],
    }  # fmt: skip
    app_container = build_container(container.settings, pool_size=4)
    app_container.tenants.cache = container.tenants.cache  # the key was verified once already
    with TestClient(create_app(app_container)) as client:
        assert client.get("/v1/stores", headers=headers).status_code == 200

        def attempt() -> str:
            response = client.post("/v1/orders", json=body, headers=headers)
            if response.status_code == 201:
                return "placed"
            assert response.status_code == 409, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            return str(response.json()["code"])

        outcomes = race([attempt] * CLIENTS)

    assert_no_oversell(container, tenant_id, outcomes)


class _CountingStore:
    """Wraps an executor's event store to count appends and optimistic-concurrency conflicts."""

    def __init__(self, real: Any, counter: Counter[str]) -> None:
        self.real, self.counter = real, counter

    def load(self, after: Any) -> Any:
        return self.real.load(after)

    def append(self, appends: Any, metadata: Any, **kwargs: Any) -> None:
        self.counter["appends"] += 1
        try:
            self.real.append(appends, metadata, **kwargs)
        except ConcurrencyConflict:
            self.counter["conflicts"] += 1
            raise


@contextmanager
def counting(*containers: Container) -> Iterator[Counter[str]]:
    counter: Counter[str] = Counter()
    executors = [c.orders.executor for c in containers]
    reals = [executor.store for executor in executors]
    for executor, real in zip(executors, reals, strict=True):
        executor.store = _CountingStore(real, counter)  # type: ignore[assignment]
    try:
        yield counter
    finally:
        for executor, real in zip(executors, reals, strict=True):
            executor.store = real
