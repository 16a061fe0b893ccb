"""The analytics fold values cancelled units net of their share of the line's discount: given
an order placed, when some of its units are cancelled (at once or in steps), then its lines'
revenue is what the units still ordered bring in (ADR 0056)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from application.ports import Metadata
from domain.order.events import (
    Address,
    CancelledLine,
    Customer,
    Discount,
    DiscountKind,
    OrderLine,
    OrderLinesCancelled,
    OrderPlaced,
)
from domain.shared.money import Money
from projections.analytics.facts import Facts
from projections.analytics.folds import group_key

TENANT = UUID(int=7)
AT = datetime(2026, 5, 22, 10, tzinfo=UTC)


def placed(
    order_id: UUID,
    lines: list[tuple[int, str]],
    *,
    currency: str = "EUR",
    discount: Discount | None = None,
    line_discount: Discount | None = None,
) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        store="web-eu",
        channel="shopify",
        external_id=None,
        currency=currency,
        customer=Customer("ada@example.com", "Ada"),
        shipping_address=Address(
            name="Ada", line1="1 Main Street", city="Berlin", postal_code="10115", country="DE"
        ),
        lines=[
            OrderLine(no, f"SKU-{no}", quantity, Money.of(price, currency), line_discount)
            for no, (quantity, price) in enumerate(lines, start=1)
        ],
        placed_at=AT,
        discount=discount,
        customer_id=uuid4(),
    )


def cancelled(*lines: tuple[int, int]) -> OrderLinesCancelled:
    return OrderLinesCancelled(
        lines=[CancelledLine(no, quantity, [], 0) for no, quantity in lines], reason="changed"
    )


def folded(order_id: UUID, *events: Any) -> list[dict[str, Any]]:
    """The order's lines after the events, applied as the projector applies a batch."""
    facts = Facts()
    meta = Metadata(tenant_id=TENANT, actor="test", correlation_id=uuid4(), recorded_at=AT)
    for version, event in enumerate(events, start=1):
        facts.needs(order_id, version, event, TENANT)
        facts.apply(version, order_id, event, meta)
    return sorted(facts.order_lines.get(group_key(TENANT, order_id)), key=lambda r: r["line_no"])


def revenue(lines: list[dict[str, Any]]) -> Decimal:
    return sum((line["net"] - line["cancelled_value"] for line in lines), Decimal(0))


FIFTEEN_OFF = Discount(DiscountKind.PERCENTAGE, Decimal(15))


def test_a_discounted_order_cancelled_in_full_brings_in_nothing() -> None:
    order = uuid4()
    lines = folded(
        order,
        placed(order, [(3, "19.99"), (1, "5.00")], discount=FIFTEEN_OFF),
        cancelled((1, 3), (2, 1)),
    )
    assert [line["discount"] for line in lines] == [Decimal("9.00"), Decimal("0.75")]
    assert [line["cancelled_value"] for line in lines] == [Decimal("50.97"), Decimal("4.25")]
    assert revenue(lines) == 0


def test_cancelled_units_give_back_their_share_of_the_discount() -> None:
    order = uuid4()
    lines = folded(order, placed(order, [(3, "19.99")], discount=FIFTEEN_OFF), cancelled((1, 1)))
    # 59.97 less 9.00 off; one unit of three cancelled: 19.99 less its 3.00 of the discount.
    assert lines[0]["cancelled_value"] == Decimal("16.99")
    assert revenue(lines) == Decimal("33.98")


def test_the_share_is_rounded_half_to_even_in_the_currency_minor_unit() -> None:
    order = uuid4()
    fixed = Discount(DiscountKind.FIXED, Decimal(5))
    lines = folded(
        order, placed(order, [(2, "1000")], currency="JPY", line_discount=fixed), cancelled((1, 1))
    )
    assert lines[0]["cancelled_value"] == Decimal("998")  # 1000 less 2.5 rounded to 2


@given(
    quantity=st.integers(1, 12),
    cents=st.integers(1, 50_000),
    percent=st.integers(0, 100),
    steps=st.lists(st.integers(1, 12), max_size=6),
)
def test_cancelling_in_steps_ends_where_cancelling_at_once_does(
    quantity: int, cents: int, percent: int, steps: list[int]
) -> None:
    """Whatever the steps, the cancelled value depends only on the units cancelled so far,
    lies between nothing and the line's net, and is the whole net once every unit is gone."""
    price = str(Decimal(cents) / 100)
    discount = Discount(DiscountKind.PERCENTAGE, Decimal(percent))
    taken, left = [], quantity
    for step in steps:
        if left:
            taken.append(min(step, left))
            left -= taken[-1]
    order, at_once = uuid4(), uuid4()
    stepped = folded(
        order,
        placed(order, [(quantity, price)], discount=discount),
        *(cancelled((1, units)) for units in taken),
    )[0]
    once = folded(
        at_once,
        placed(at_once, [(quantity, price)], discount=discount),
        *([cancelled((1, sum(taken)))] if taken else []),
    )[0]
    assert stepped["cancelled_value"] == once["cancelled_value"]
    assert 0 <= stepped["cancelled_value"] <= stepped["net"]
    if not left:
        assert stepped["cancelled_value"] == stepped["net"]
