"""Product: a SKU with its physical facts, its price in each store and its unit cost."""

from __future__ import annotations

import msgspec

from domain.shared.errors import InvalidCommand
from domain.shared.events import DomainEvent
from domain.shared.money import Money
from domain.shared.reference import AlreadyExists, check_code


class Dimensions(msgspec.Struct, frozen=True):
    length_mm: int
    width_mm: int
    height_mm: int


class ProductDefined(DomainEvent, frozen=True, kw_only=True):
    aggregate = "product"
    sku: str
    name: str
    weight_grams: int
    dimensions: Dimensions
    prices: dict[str, Money]
    unit_cost: Money | None = None


class Product(msgspec.Struct, frozen=True, kw_only=True):
    sku: str = ""
    name: str = ""
    weight_grams: int = 0
    dimensions: Dimensions | None = None
    prices: dict[str, Money] = msgspec.field(default_factory=dict)
    unit_cost: Money | None = None
    exists: bool = False


def evolve(event: ProductDefined, state: Product) -> Product:
    return Product(
        sku=event.sku,
        name=event.name,
        weight_grams=event.weight_grams,
        dimensions=event.dimensions,
        prices=event.prices,
        unit_cost=event.unit_cost,
        exists=True,
    )


def define_product(
    state: Product,
    *,
    sku: str,
    name: str,
    weight_grams: int,
    dimensions: Dimensions,
    prices: dict[str, Money],
    unit_cost: Money | None,
) -> list[ProductDefined]:
    if state.exists:
        raise AlreadyExists(f"product {sku!r} already exists")
    if not name.strip():
        raise InvalidCommand("a product needs a name")
    if weight_grams < 0 or min(dimensions.length_mm, dimensions.width_mm, dimensions.height_mm) < 0:
        raise InvalidCommand("weight and dimensions cannot be negative")
    if any(price.amount < 0 for price in prices.values()):
        raise InvalidCommand("prices cannot be negative")
    if unit_cost is not None and unit_cost.amount < 0:
        raise InvalidCommand("unit cost cannot be negative")
    return [
        ProductDefined(
            sku=check_code(sku, "SKU"),
            name=name,
            weight_grams=weight_grams,
            dimensions=dimensions,
            prices=prices,
            unit_cost=unit_cost,
        )
    ]
