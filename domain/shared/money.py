"""Exact money: a Decimal quantised to its currency's minor unit, with its ISO 4217 code."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import msgspec

from domain.shared.errors import InvalidCommand

# ISO 4217 minor units for the currencies Kontor accepts.
MINOR_UNITS: dict[str, int] = {
    "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "INR": 2, "ISK": 0, "JPY": 0, "KRW": 0,
    "KWD": 3, "MXN": 2, "NOK": 2, "NZD": 2, "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2,
    "ZAR": 2,
}  # fmt: skip


class UnknownCurrency(InvalidCommand):
    code = "unknown_currency"


class InvalidAmount(InvalidCommand):
    code = "invalid_amount"


def check_currency(currency: str) -> str:
    if currency not in MINOR_UNITS:
        raise UnknownCurrency(f"currency {currency!r} is not a supported ISO 4217 code")
    return currency


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[check_currency(currency)])


class Money(msgspec.Struct, frozen=True):
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Exact money; refuses amounts finer than the currency's minor unit."""
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError) as exc:
            raise InvalidAmount(f"{amount!r} is not a decimal amount") from exc
        if not value.is_finite():
            raise InvalidAmount(f"{amount!r} is not a finite amount")
        step = quantum(currency)
        if value != value.quantize(step):
            raise InvalidAmount(f"{amount} has more decimals than {currency} allows ({step})")
        return cls(value.quantize(step), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0).quantize(quantum(currency)), currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidAmount(f"cannot combine {self.currency} with {other.currency}")


def round_money(value: Decimal, currency: str) -> Money:
    return Money(value.quantize(quantum(currency), rounding=ROUND_HALF_EVEN), currency)
