"""Money is exact: a Decimal at its currency's minor unit, with its ISO 4217 code."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from domain.shared.money import (
    InvalidAmount,
    Money,
    UnknownCurrency,
    check_currency,
    quantum,
    round_money,
)


def test_money_is_quantised_to_the_minor_unit_of_its_currency() -> None:
    assert Money.of("12.3", "EUR") == Money(Decimal("12.30"), "EUR")
    assert str(Money.of(5, "EUR").amount) == "5.00"
    assert str(Money.of("5", "JPY").amount) == "5"
    assert str(Money.of("1.5", "KWD").amount) == "1.500"


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "EUR"), ("0.5", "JPY"), ("1.0001", "BHD")]
)
def test_an_amount_finer_than_the_minor_unit_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount, match=f"more decimals than {currency} allows"):
        Money.of(amount, currency)


def test_trailing_zeros_beyond_the_minor_unit_are_not_extra_precision() -> None:
    assert Money.of("1.2300", "EUR") == Money(Decimal("1.23"), "EUR")


@pytest.mark.parametrize("amount", ["abc", "", "1,00", "NaN", "Infinity", "-Infinity"])
def test_something_that_is_not_a_finite_decimal_is_refused(amount: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        Money.of(amount, "EUR")
    assert refused.value.code == "invalid_amount"


@pytest.mark.parametrize("currency", ["XXX", "eur", "", "EURO"])
def test_an_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(UnknownCurrency, match="not a supported ISO 4217 code"):
        Money.of("1", currency)
    with pytest.raises(UnknownCurrency):
        check_currency(currency)


def test_the_quantum_follows_iso_4217_minor_units() -> None:
    assert quantum("EUR") == Decimal("0.01")
    assert quantum("JPY") == Decimal("1")
    assert quantum("KWD") == Decimal("0.001")


def test_zero_is_quantised() -> None:
    assert str(Money.zero("EUR").amount) == "0.00"


def test_adding_and_subtracting_is_exact() -> None:
    total = Money.of("0.10", "EUR") + Money.of("0.20", "EUR")
    assert total == Money.of("0.30", "EUR")
    assert total - Money.of("0.30", "EUR") == Money.zero("EUR")
    assert Money.of("1.00", "EUR") - Money.of("2.50", "EUR") == Money.of("-1.50", "EUR")


def test_multiplying_by_a_quantity_is_exact() -> None:
    assert Money.of("0.10", "EUR").times(3) == Money.of("0.30", "EUR")
    assert Money.of("19.99", "USD").times(0) == Money.zero("USD")


def test_combining_two_currencies_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="cannot combine EUR with USD"):
        Money.of("1", "EUR") + Money.of("1", "USD")
    with pytest.raises(InvalidAmount):
        Money.of("1", "EUR") - Money.of("1", "USD")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.345", "2.34"), ("2.355", "2.36"), ("2.3451", "2.35"), ("-2.345", "-2.34")],
)
def test_rounding_to_the_minor_unit_is_half_to_even(value: str, expected: str) -> None:
    assert round_money(Decimal(value), "EUR") == Money(Decimal(expected), "EUR")


def test_money_round_trips_through_msgspec_json_exactly() -> None:
    money = Money.of("12.30", "EUR")
    encoded = msgspec.json.encode(money)
    assert encoded == b'{"amount":"12.30","currency":"EUR"}'
    assert msgspec.json.decode(encoded, type=Money) == money
