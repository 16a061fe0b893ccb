"""Invoice arithmetic for random orders: totals are the sum of their parts, to the cent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.invoice.pricing import LineCharge, TaxPolicy, TaxRounding, price, split
from domain.order.events import Discount, DiscountKind
from domain.shared.money import quantum

currencies = st.sampled_from(["EUR", "JPY", "KWD", "USD"])
rates = st.sampled_from(
    [Decimal(0), Decimal("0.07"), Decimal("0.19"), Decimal("0.2"), Decimal("0.0825")]
)
discounts = st.one_of(
    st.none(),
    st.builds(Discount, st.just(DiscountKind.PERCENTAGE), st.decimals(0, 100, places=1)),
    st.builds(Discount, st.just(DiscountKind.FIXED), st.integers(0, 5000).map(Decimal)),
)


@st.composite
def invoices(draw: st.DrawFn) -> tuple[str, list[LineCharge], Decimal, Discount | None, TaxPolicy]:
    currency = draw(currencies)
    step = quantum(currency)
    lines = [
        LineCharge(
            line_no=n,
            sku=f"S{n}",
            quantity=draw(st.integers(1, 5)),
            ordered=5,
            before=0,
            unit_price=draw(st.integers(0, 100_000)) * step,
            discount=draw(discounts),
        )
        for n in range(1, draw(st.integers(1, 6)) + 1)
    ]
    shipping = draw(st.integers(0, 2_000)) * step
    policy = TaxPolicy(
        rate=draw(rates),
        prices_include_tax=draw(st.booleans()),
        rounding=draw(st.sampled_from(list(TaxRounding))),
    )
    return currency, lines, shipping, draw(discounts), policy


@settings(max_examples=300, deadline=None)
@given(invoices())
def test_the_total_is_lines_plus_shipping_minus_discounts_plus_tax(
    case: tuple[str, list[LineCharge], Decimal, Discount | None, TaxPolicy],
) -> None:
    currency, lines, shipping, discount, policy = case
    step = quantum(currency)
    priced = price(
        lines,
        currency=currency,
        shipping=shipping,
        discount=discount,
        fixed_discount_left=discount.value if discount else Decimal(0),
        tax=policy,
    )
    added_tax = Decimal(0) if policy.prices_include_tax else priced.tax_total
    assert priced.total == priced.subtotal + priced.shipping - priced.discount_total + added_tax
    assert priced.tax_total == sum((line.tax for line in priced.lines), priced.shipping_tax)
    assert priced.subtotal == sum(line.amount for line in priced.lines)
    for line in priced.lines:
        assert line.net == line.amount - line.discount
        assert line.net >= 0
        assert line.total == line.net + (0 if policy.prices_include_tax else line.tax)
    for value in (priced.total, priced.tax_total, priced.discount_total):
        assert value == value.quantize(step)
    # The documented rule: per-invoice rounding is off the exact tax by at most half a minor
    # unit; per-line rounding by at most half a minor unit per taxed part.
    exact = sum(
        (
            net * policy.rate / (1 + policy.rate)
            if policy.prices_include_tax
            else net * policy.rate
            for net in [*(line.net for line in priced.lines), priced.shipping]
        ),
        Decimal(0),
    )
    parts = len(priced.lines) + 1 if policy.rounding is TaxRounding.LINE else 1
    assert abs(priced.tax_total - exact) <= step / 2 * parts


@settings(max_examples=200, deadline=None)
@given(
    currencies,
    st.integers(1, 10**6),
    st.lists(st.integers(1, 10), min_size=1, max_size=5),
    st.one_of(
        st.builds(Discount, st.just(DiscountKind.PERCENTAGE), st.decimals(0, 100, places=2)),
        st.builds(Discount, st.just(DiscountKind.FIXED), st.integers(0, 10**5).map(Decimal)),
    ),
)
def test_split_shipments_neither_create_nor_lose_a_cent_of_line_discount(
    currency: str, price_units: int, shipments: list[int], discount: Discount
) -> None:
    step = quantum(currency)
    unit_price = price_units * step
    ordered = sum(shipments)
    before, given_total = 0, Decimal(0)
    for quantity in shipments:
        charge = LineCharge(
            line_no=1,
            sku="S",
            quantity=quantity,
            ordered=ordered,
            before=before,
            unit_price=unit_price,
            discount=discount,
        )
        priced = price(
            [charge],
            currency=currency,
            shipping=Decimal(0),
            discount=None,
            fixed_discount_left=Decimal(0),
            tax=TaxPolicy(),
        )
        given_total += priced.discount_total
        before += quantity
    whole = price(
        [
            LineCharge(
                line_no=1,
                sku="S",
                quantity=ordered,
                ordered=ordered,
                before=0,
                unit_price=unit_price,
                discount=discount,
            )
        ],
        currency=currency,
        shipping=Decimal(0),
        discount=None,
        fixed_discount_left=Decimal(0),
        tax=TaxPolicy(),
    )
    assert given_total == whole.discount_total


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_a_split_adds_up_to_its_total(cents: int, weights: list[int]) -> None:
    total = Decimal(cents) / 100
    parts = split(total, [Decimal(w) for w in weights], "EUR")
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5_000)), min_size=1, max_size=20))
def test_refunds_never_exceed_payments(steps: list[tuple[bool, int]]) -> None:
    """Any sequence of payments and refund attempts: what was refunded never exceeds what was
    paid, and a refused refund changes nothing."""
    from datetime import UTC, datetime
    from uuid import uuid4

    from domain.invoice import decide
    from domain.invoice.errors import RefundExceedsPayments
    from domain.invoice.state import Invoice, Series, evolve
    from domain.payment.state import Receipt
    from domain.shared.money import Money
    from tests.unit.test_invoice_decide import issue, refund

    state = evolve(issue(), Invoice())
    now = datetime.now(UTC)
    for is_payment, cents in steps:
        amount = Money(Decimal(cents) / 100, "EUR")
        if is_payment:
            paid = decide.record_payment(
                state,
                Receipt(),
                decide.RecordPayment(
                    payment_id=uuid4(),
                    amount=amount,
                    method="card",
                    gateway="g",
                    gateway_reference=str(uuid4()),
                    received_at=now,
                ),
            )
            state = evolve(paid.invoice[0], state)
        else:
            try:
                done = decide.refund([state], Receipt(), Series(), "CN", refund(str(amount.amount)))
            except RefundExceedsPayments:
                continue
            for events in done.invoices.values():
                for event in events:
                    state = evolve(event, state)
        assert 0 <= state.refunded <= state.paid
