"""The analytics fold of an order's lines, given events / then rows: cancelled units valued net
of their share of the line's discount, at once or in steps (ADR 0056); edits that raise
quantities and add lines, re-priced as one invoice of the whole order would be (ADR 0057);
shipments whose lines the order dropped before picking."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from application.ports import Metadata
from domain.invoice.pricing import LineCharge, TaxPolicy, price
from domain.order.events import (
    Address,
    CancelledLine,
    Customer,
    Discount,
    DiscountKind,
    LineQuantity,
    OrderLine,
    OrderLinesCancelled,
    OrderLinesEdited,
    OrderPlaced,
)
from domain.shared.money import Money
from domain.shipment.events import (
    ShipmentCreated,
    ShipmentLine,
    ShipmentLinesDropped,
    ShipmentShipped,
)
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


# --- order edits (ADR 0057) -----------------------------------------------------------------

DISCOUNTS = st.one_of(
    st.none(),
    st.builds(Discount, st.just(DiscountKind.PERCENTAGE), st.integers(1, 60).map(Decimal)),
    st.builds(Discount, st.just(DiscountKind.FIXED), st.integers(1, 3_000).map(Decimal)),
)
LINES = st.lists(
    st.tuples(st.integers(1, 5), st.integers(50, 9_999), DISCOUNTS), min_size=1, max_size=4
)


def order_line(no: int, quantity: int, cents: int, discount: Discount | None) -> OrderLine:
    return OrderLine(no, f"SKU-{no}", quantity, Money.of(Decimal(cents) / 100, "EUR"), discount)


def invoiced_at_once(lines: list[OrderLine], discount: Discount | None) -> list[Decimal]:
    """Each line's discount on one invoice of the whole order: what analytics report."""
    priced = price(
        [
            LineCharge(
                line_no=line.line_no, sku=line.sku, quantity=line.quantity,
                ordered=line.quantity, before=0, unit_price=line.unit_price.amount,
                discount=line.discount,
            )
            for line in lines
        ],
        currency="EUR", shipping=Decimal(0), discount=discount,
        fixed_discount_left=discount.value if discount else Decimal(0), tax=TaxPolicy(),
    )  # fmt: skip
    return [line.discount for line in priced.lines]


@given(
    placed_lines=LINES,
    discount=DISCOUNTS,
    raised=st.lists(st.integers(1, 3), max_size=4),
    added=st.lists(st.tuples(st.integers(1, 5), st.integers(50, 9_999), DISCOUNTS), max_size=3),
)
def test_an_edited_order_is_priced_as_one_invoice_of_all_its_lines(
    placed_lines: list[tuple[int, int, Discount | None]],
    discount: Discount | None,
    raised: list[int],
    added: list[tuple[int, int, Discount | None]],
) -> None:
    """Given an order placed with any discounts, when quantities are raised and lines added,
    then every line's discount is its share on one invoice of the edited order, and its gross
    and net follow."""
    order = uuid4()
    lines = [order_line(no, *line) for no, line in enumerate(placed_lines, start=1)]
    event = placed(order, [], discount=discount)
    event = msgspec.structs.replace(event, lines=lines)
    increased = [
        LineQuantity(no, more) for no, more in enumerate(raised, start=1) if no <= len(lines)
    ]
    new = [order_line(len(lines) + n, *line) for n, line in enumerate(added, start=1)]
    edited = OrderLinesEdited(added=new, increased=increased)
    final = [
        msgspec.structs.replace(line, quantity=line.quantity + more.quantity)
        if (more := next((m for m in increased if m.line_no == line.line_no), None))
        else line
        for line in lines
    ] + new
    rows = folded(order, event, edited)
    assert [(r["line_no"], r["sku"], r["quantity"]) for r in rows] == [
        (line.line_no, line.sku, line.quantity) for line in final
    ]
    assert [r["discount"] for r in rows] == invoiced_at_once(final, discount)
    for row, line in zip(rows, final, strict=True):
        assert row["gross"] == line.unit_price.amount * line.quantity
        assert row["net"] == row["gross"] - row["discount"]
        assert (row["customer"], row["placed_at"], row["store"]) == (
            rows[0]["customer"], AT, "web-eu"
        )  # fmt: skip


def test_an_edit_after_a_cancellation_keeps_the_cancelled_units_net_of_the_new_share() -> None:
    order = uuid4()
    lines = folded(
        order,
        placed(order, [(3, "10.00")], discount=Discount(DiscountKind.FIXED, Decimal(6))),
        cancelled((1, 1)),
        OrderLinesEdited(added=[order_line(2, 1, 3_000, None)], increased=[]),
    )
    # 6.00 off shared over nets 30.00 and 30.00: 3.00 each; one unit in three cancelled.
    assert [line["discount"] for line in lines] == [Decimal("3.00"), Decimal("3.00")]
    assert lines[0]["cancelled_value"] == Decimal("9.00")
    assert revenue(lines) == Decimal("18.00") + Decimal("27.00")


# --- shipments ------------------------------------------------------------------------------


def test_units_dropped_before_picking_are_not_short_picks() -> None:
    """Given a shipment planned for 3 units, when the order cancels one before picking (the
    shipment drops it) and the other two ship, then nothing was picked short; a unit the
    picker could not find still is."""
    facts = Facts()
    meta = Metadata(tenant_id=TENANT, actor="test", correlation_id=uuid4(), recorded_at=AT)
    order, shipment = uuid4(), uuid4()
    line = [ShipmentLine(1, "SKU-1", 3)]
    events = [
        ShipmentCreated(
            shipment_id=shipment, order_id=order, store="web-eu", location="BER-1",
            lines=line, created_at=AT,
        ),
        ShipmentLinesDropped(lines=[ShipmentLine(1, "SKU-1", 1)], reason="edit", dropped_at=AT),
        ShipmentShipped(
            shipment_id=shipment, order_id=order, store="web-eu", location="BER-1",
            lines=[ShipmentLine(1, "SKU-1", 1)], shipped_at=AT,
        ),
    ]  # fmt: skip
    for version, event in enumerate(events, start=1):
        for fold, key in facts.needs(shipment, version, event, TENANT):
            fold.fresh(key)
        facts.apply(version, shipment, event, meta)
    (row,) = facts.shipments.get(group_key(TENANT, shipment))
    assert (row["units"], row["short_units"]) == (1, 1)
