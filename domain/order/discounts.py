"""Checks for the discounts and shipping charge an order carries (invoicing applies them)."""

from __future__ import annotations

from decimal import Decimal

from domain.order.events import Discount, DiscountKind
from domain.shared.errors import InvalidCommand
from domain.shared.money import Money


def check_discount(discount: Discount | None, currency: str, field: str) -> Discount | None:
    if discount is None:
        return None
    if discount.kind is DiscountKind.PERCENTAGE:
        if not Decimal(0) <= discount.value <= Decimal(100):
            raise InvalidCommand("a percentage discount lies between 0 and 100", field=field)
        return discount
    amount = Money.of(discount.value, currency).amount
    if amount < 0:
        raise InvalidCommand("a fixed discount cannot be negative", field=field)
    return Discount(discount.kind, amount)


def check_shipping(charge: Decimal | None, currency: str) -> Money | None:
    if charge is None:
        return None
    money = Money.of(charge, currency)
    if money.amount < 0:
        raise InvalidCommand("the shipping charge cannot be negative", field="shipping_charge")
    return money
