"""Invoice numbers stay gapless and unique while threads of two processes' worth of executors
issue at once against the same series on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from application.context import CommandContext
from application.orders import NewOrder
from application.stock import ReceiptLine
from domain.order.decide import RequestedLine
from domain.order.events import Address, Customer
from domain.product.model import Dimensions
from domain.shared.money import Money
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings

ORDERS = 24


@pytest.fixture(scope="module")
def containers(settings: Settings) -> Iterator[tuple[Container, Container]]:
    """Two containers: separate in-process locks and caches, like two API processes."""
    migrate(settings)
    first, second = build_container(settings, pool_size=4), build_container(settings, pool_size=4)
    yield first, second
    first.close()
    second.close()


def _placed_orders(container: Container, tenant_id: UUID) -> list[UUID]:
    ctx = CommandContext(tenant_id=tenant_id, actor="test")
    catalog = container.catalog_commands
    catalog.open_store(ctx, code="web", name="Web", currency="EUR", allow_backorders=False)
    catalog.open_location(ctx, code="BER", name="Berlin", country="DE", region=None)
    catalog.define_product(
        ctx,
        sku="MUG",
        name="Mug",
        weight_grams=0,
        dimensions=Dimensions(0, 0, 0),
        prices={"web": Money.of("9.90", "EUR")},
        unit_cost=None,
    )
    container.stock.receive(ctx, location="BER", lines=[ReceiptLine("MUG", ORDERS)])
    address = Address(name="A", line1="L", city="Berlin", postal_code="1", country="DE")
    return [
        container.orders.place(
            ctx,
            NewOrder(
                store="web",
                channel="web",
                external_id=None,
                currency="EUR",
                customer=Customer("a@example.com", "A"),
                shipping_address=address,
                lines=[RequestedLine("MUG", 1, Decimal("9.90"))],
            ),
        ).order.state.id
        for _ in range(ORDERS)
    ]


def test_concurrent_issuing_leaves_no_gaps_and_no_duplicates(
    containers: tuple[Container, Container],
) -> None:
    tenant_id = uuid4()
    first, _second = containers
    orders = _placed_orders(first, tenant_id)

    def issue(index: int) -> str:
        container = containers[index % 2]
        ctx = CommandContext(tenant_id=tenant_id, actor="test")
        return container.invoices.issue(ctx, orders[index]).state.document.number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(issue, range(ORDERS)))
        again = list(pool.map(issue, range(ORDERS)))  # issuing twice issues nothing twice

    assert sorted(numbers) == [f"WEB-{n:06d}" for n in range(1, ORDERS + 1)]
    assert again == numbers
