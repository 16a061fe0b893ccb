"""Postgres read models: equal to a fold of the events, rebuildable from zero, exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.postgres.mapper import decode_event
from application.context import CommandContext
from application.orders import NewOrder
from application.stock import ReceiptLine
from domain.order.decide import RequestedLine
from domain.order.events import Address, Customer, OrderEvent
from domain.order.state import Order
from domain.order.state import evolve as evolve_order
from domain.product.model import Dimensions
from domain.shared.money import Money
from domain.stock.events import StockEvent
from domain.stock.state import Stock
from domain.stock.state import evolve as evolve_stock
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from projections.rebuild import rebuild
from projections.runner import start_runners, wait_until_caught_up

SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=3)
    yield built
    built.close()


@contextmanager
def running(container: Container) -> Iterator[None]:
    """Projection runners for the duration of the block; stopped and joined on exit."""
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)
        yield


def caught_up(container: Container) -> None:
    wait_until_caught_up(container.datastore, timeout=30)


class Merchant:
    """Drives the application layer for one fresh tenant."""

    def __init__(self, container: Container) -> None:
        self.c = container
        self.tenant_id = uuid4()

    @property
    def ctx(self) -> CommandContext:
        return CommandContext(tenant_id=self.tenant_id, actor="test:projections")

    def setup(self) -> None:
        cat = self.c.catalog_commands
        cat.open_store(self.ctx, code="web", name="Web", currency="EUR", allow_backorders=False)
        cat.open_store(self.ctx, code="b2b", name="B2B", currency="EUR", allow_backorders=True)
        cat.open_location(self.ctx, code="BER", name="Berlin", country="DE", region="BE")
        cat.open_location(self.ctx, code="MUC", name="Munich", country="DE", region="BY")
        for sku in ("MUG", "TEE", "CAP"):
            cat.define_product(
                self.ctx, sku=sku, name=sku, weight_grams=1, dimensions=Dimensions(1, 1, 1),
                prices={"web": Money.of("10.00", "EUR"), "b2b": Money.of("8.00", "EUR")},
                unit_cost=None,
            )  # fmt: skip
        self.c.stock.receive(
            self.ctx,
            location="BER",
            lines=[
                ReceiptLine("MUG", 20, Money.of("2.00", "EUR")),
                ReceiptLine("TEE", 5),
                ReceiptLine("CAP", 3),
            ],
        )
        self.c.stock.receive(self.ctx, location="MUC", lines=[ReceiptLine("MUG", 8)])

    def order(self, store: str = "web", region: str = "BE", **lines: int) -> UUID:
        placed = self.c.orders.place(
            self.ctx,
            NewOrder(
                store=store,
                channel="web",
                external_id=None,
                currency="EUR",
                customer=Customer(f"{uuid4().hex[:6]}@example.com", "Buyer"),
                shipping_address=Address(
                    name="Buyer", line1="x", city="c", postal_code="1", country="DE", region=region
                ),
                lines=[RequestedLine(sku, qty, Decimal("10.00")) for sku, qty in lines.items()],
            ),
        )
        assert placed.order.state.id is not None
        return placed.order.state.id

    def first_half(self) -> list[Callable[[], Any]]:
        return [
            lambda: self.order(MUG=3, TEE=1),
            lambda: self.order(region="BY", MUG=4),
            lambda: self.order(store="b2b", CAP=5),
            lambda: self.c.stock.adjust(
                self.ctx, location="BER", sku="TEE", reason="count", counted=4
            ),
            lambda: self.c.stock.transfer(
                self.ctx, sku="MUG", from_location="BER", to_location="MUC", quantity=5
            ),
        ]

    def second_half(self) -> list[Callable[[], Any]]:
        def cancel_some() -> None:
            order = self.order(MUG=6, TEE=2)
            self.c.orders.cancel(self.ctx, order, reason="partial", lines={1: 4})

        def cancel_all() -> None:
            order = self.order(MUG=1, TEE=1)
            self.c.orders.cancel(self.ctx, order, reason="changed mind")

        def hold_release() -> None:
            order = self.order(TEE=1)
            self.c.orders.hold(self.ctx, order, reason="fraud check")
            self.c.orders.release(self.ctx, order)
            self.c.orders.hold(self.ctx, order, reason="again")

        return [
            cancel_some,
            cancel_all,
            hold_release,
            lambda: self.c.stock.receive(self.ctx, location="MUC", lines=[ReceiptLine("TEE", 7)]),
            lambda: self.order(store="b2b", MUG=40),
        ]

    # --- the truth: a fold of this tenant's events -------------------------------------------

    def folds(self) -> tuple[dict[tuple[str, str], tuple[Any, ...]], dict[UUID, tuple[Any, ...]]]:
        with self.c.datastore.transaction() as curs:
            curs.execute(
                "SELECT originator_id, originator_version, topic, state FROM kontor_events "
                "WHERE convert_from(state, 'UTF8')::jsonb #>> '{meta,tenant_id}' = %s "
                "ORDER BY notification_id",
                (str(self.tenant_id),),
            )
            rows = curs.fetchall()
        stock: dict[UUID, tuple[Stock, int]] = {}
        orders: dict[UUID, tuple[Order, int]] = {}
        for row in rows:
            event, _ = decode_event(row["topic"], bytes(row["state"]))
            sid, version = row["originator_id"], row["originator_version"]
            if isinstance(event, StockEvent):
                state = stock.get(sid, (Stock(), 0))[0]
                stock[sid] = (evolve_stock(event, state), version)
            elif isinstance(event, OrderEvent):
                state_o = orders.get(sid, (Order(), 0))[0]
                orders[sid] = (evolve_order(event, state_o), version)
        levels = {
            (s.sku, s.location): (s.on_hand, s.reserved, s.available, version)
            for s, version in stock.values()
        }
        summaries = {
            oid: (
                str(o.status), o.on_hold, o.store, Decimal(o.total.amount),
                sum(line.open_quantity for line in o.lines.values()), o.backordered, version,
            )
            for oid, (o, version) in orders.items()
        }  # fmt: skip
        return levels, summaries

    def read_models(
        self, *, full: bool = False
    ) -> tuple[dict[tuple[str, str], tuple[Any, ...]], dict[UUID, tuple[Any, ...]]]:
        with self.c.datastore.transaction() as curs:
            curs.execute("SELECT * FROM inventory_levels WHERE tenant_id = %s", (self.tenant_id,))
            inventory = curs.fetchall()
            curs.execute("SELECT * FROM orders_view WHERE tenant_id = %s", (self.tenant_id,))
            orders = curs.fetchall()
        if full:  # every column, byte for byte
            return (
                {(r["sku"], r["location"]): tuple(r.values()) for r in inventory},
                {r["id"]: tuple(r.values()) for r in orders},
            )
        levels = {
            (r["sku"], r["location"]): (r["on_hand"], r["reserved"], r["available"], r["version"])
            for r in inventory
        }
        summaries = {
            r["id"]: (
                r["status"], r["on_hold"], r["store"], r["total"], r["units"], r["backordered"],
                r["version"],
            )
            for r in orders
        }  # fmt: skip
        return levels, summaries


@pytest.fixture
def merchant(container: Container) -> Merchant:
    merchant = Merchant(container)
    merchant.setup()
    return merchant


def test_the_read_models_equal_a_fold_of_the_events_after_a_run_of_commands(
    container: Container, merchant: Merchant
) -> None:
    with running(container):
        for command in merchant.first_half() + merchant.second_half():
            command()
        caught_up(container)

    levels, summaries = merchant.read_models()
    assert (levels, summaries) == merchant.folds()
    assert levels[("MUG", "BER")][:3] == (15, 15, 0)  # the b2b order took every free MUG
    assert {s[0] for s in summaries.values()} == {"allocated", "backordered", "cancelled"}
    assert any(s[1] for s in summaries.values())  # one order is on hold


def test_rebuilding_a_projection_from_zero_gives_identical_rows(
    container: Container, merchant: Merchant
) -> None:
    with running(container):
        for command in merchant.first_half() + merchant.second_half():
            command()
        caught_up(container)
    before = merchant.read_models(full=True)

    seen_while_building: list[Any] = []

    def readers_still_see_the_old_model(done: int, total: int) -> None:
        seen_while_building.append(merchant.read_models(full=True))

    inventory = rebuild(
        "inventory_levels", container.env | SMALL_POOL, readers_still_see_the_old_model
    )
    orders = rebuild("orders_view", container.env | SMALL_POOL, readers_still_see_the_old_model)

    assert inventory.lag == orders.lag == 0
    assert seen_while_building
    assert all(seen == before for seen in seen_while_building)
    assert merchant.read_models(full=True) == before
    assert merchant.read_models() == merchant.folds()


def test_stopping_and_restarting_the_runners_midway_applies_every_event_exactly_once(
    container: Container, merchant: Merchant
) -> None:
    with running(container):
        for command in merchant.first_half():
            command()
        # stopped without waiting: some events may still be in flight
    for command in merchant.second_half()[:2]:
        command()  # written while no projector runs
    with running(container):
        for command in merchant.second_half()[2:]:
            command()
        caught_up(container)

    assert merchant.read_models() == merchant.folds()
    with container.datastore.transaction() as curs:
        for table in ("inventory_levels_tracking", "orders_view_tracking"):
            curs.execute(
                f"SELECT count(*) AS n, count(DISTINCT notification_id) AS d FROM {table}"  # type: ignore[arg-type]
            )
            row = curs.fetchone()
            assert row["n"] == row["d"]
