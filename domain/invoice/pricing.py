"""The tax engine and invoice arithmetic: exact to the currency's minor unit.

Rounding rule (ADR 0017): every rounding is half-even to the minor unit, and every split of a
rounded amount over parts uses the largest-remainder method, so parts always add up to their
total. Line discounts are rounded cumulatively over an order's invoices (what invoice k shows is
round(discount of everything invoiced up to k) - round(discount up to k-1)), so split shipments
never create or lose a cent of discount. Tax is rounded per line or once per invoice, as the
store's policy says.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

import msgspec

from domain.order.events import Discount, DiscountKind
from domain.shared.money import quantum

HUNDRED = Decimal(100)


class TaxRounding(StrEnum):
    LINE = "line"
    INVOICE = "invoice"


class TaxPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """`rate` is a fraction (0.19 for 19 %); an exempt customer is taxed at zero."""

    rate: Decimal = Decimal(0)
    prices_include_tax: bool = False
    rounding: TaxRounding = TaxRounding.LINE


class LineCharge(msgspec.Struct, frozen=True, kw_only=True):
    """One order line's share of an invoice: `quantity` of `ordered`, after `before` units were
    invoiced already."""

    line_no: int
    sku: str
    quantity: int
    ordered: int
    before: int
    unit_price: Decimal
    discount: Discount | None = None


class PricedLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    amount: Decimal  # quantity x unit price
    discount: Decimal  # line discount + this line's share of the order discount
    net: Decimal  # amount - discount, in the store's pricing (tax included or not)
    tax: Decimal
    total: Decimal  # what the customer pays for the line


class Priced(msgspec.Struct, frozen=True, kw_only=True):
    lines: list[PricedLine]
    shipping: Decimal
    shipping_tax: Decimal
    subtotal: Decimal
    discount_total: Decimal
    order_discount: Decimal
    tax_total: Decimal
    total: Decimal


def round_to(value: Decimal, currency: str) -> Decimal:
    return value.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def split(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Splits a rounded `total` over parts proportional to `weights` (largest remainder): the
    parts are exact to the minor unit and add up to `total`."""
    whole = sum(weights, Decimal(0))
    if not weights:
        return []
    if whole == 0:
        return [total, *([Decimal(0) * total] * (len(weights) - 1))]
    step = quantum(currency)
    exact = [total * weight / whole for weight in weights]
    parts = [value.quantize(step, rounding=ROUND_FLOOR) for value in exact]
    left = int((total - sum(parts, Decimal(0))) / step)
    by_remainder = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[:left]:
        parts[i] += step
    return [part.quantize(step) for part in parts]


def line_discount(charge: LineCharge, currency: str) -> Decimal:
    """The line's own discount for this invoice, rounded cumulatively (see module doc)."""
    discount = charge.discount
    if discount is None or charge.ordered <= 0:
        return round_to(Decimal(0), currency)

    def up_to(units: int) -> Decimal:
        if discount.kind is DiscountKind.PERCENTAGE:
            return round_to(charge.unit_price * units * discount.value / HUNDRED, currency)
        whole = min(discount.value, charge.unit_price * charge.ordered)
        return round_to(whole * units / charge.ordered, currency)

    return up_to(charge.before + charge.quantity) - up_to(charge.before)


def order_discount(
    discount: Discount | None, base: Decimal, fixed_left: Decimal, currency: str
) -> Decimal:
    """A percentage applies to each invoice's lines; a fixed amount is used up by the order's
    invoices in issue order, never beyond an invoice's lines."""
    if discount is None:
        return round_to(Decimal(0), currency)
    if discount.kind is DiscountKind.PERCENTAGE:
        return round_to(base * discount.value / HUNDRED, currency)
    return round_to(max(Decimal(0), min(fixed_left, base)), currency)


def tax_of(net: Decimal, policy: TaxPolicy) -> Decimal:
    """The exact (unrounded) tax in a net amount of the store's pricing."""
    if policy.prices_include_tax:
        return net * policy.rate / (1 + policy.rate)
    return net * policy.rate


def price(
    charges: Sequence[LineCharge],
    *,
    currency: str,
    shipping: Decimal,
    discount: Discount | None,
    fixed_discount_left: Decimal,
    tax: TaxPolicy,
) -> Priced:
    zero = round_to(Decimal(0), currency)
    amounts = [round_to(c.unit_price * c.quantity, currency) for c in charges]
    own = [line_discount(c, currency) for c in charges]
    after_own = [amount - d for amount, d in zip(amounts, own, strict=True)]
    whole_order = order_discount(discount, sum(after_own, zero), fixed_discount_left, currency)
    shares = split(whole_order, after_own, currency)
    nets = [value - share for value, share in zip(after_own, shares, strict=True)]
    shipping = round_to(shipping, currency)

    exact = [tax_of(net, tax) for net in [*nets, shipping]]
    if tax.rounding is TaxRounding.LINE:
        taxes = [round_to(value, currency) for value in exact]
    else:
        taxes = split(round_to(sum(exact, Decimal(0)), currency), exact, currency)

    def payable(net: Decimal, line_tax: Decimal) -> Decimal:
        return net if tax.prices_include_tax else net + line_tax

    lines = [
        PricedLine(
            line_no=c.line_no,
            sku=c.sku,
            quantity=c.quantity,
            unit_price=c.unit_price,
            amount=amount,
            discount=d + share,
            net=net,
            tax=line_tax,
            total=payable(net, line_tax),
        )
        for c, amount, d, share, net, line_tax in zip(
            charges, amounts, own, shares, nets, taxes, strict=False
        )
    ]
    tax_total = sum(taxes, zero)
    payable_tax = zero if tax.prices_include_tax else tax_total
    subtotal = sum(amounts, zero)
    discount_total = sum((line.discount for line in lines), zero)
    return Priced(
        lines=lines,
        shipping=shipping,
        shipping_tax=taxes[-1],
        subtotal=subtotal,
        discount_total=discount_total,
        order_discount=whole_order,
        tax_total=tax_total,
        total=subtotal - discount_total + shipping + payable_tax,
    )
