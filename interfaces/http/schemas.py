"""Request and response bodies. Separate from event Structs: the API and storage evolve apart."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.location.model import Location
from domain.order.events import Discount
from domain.order.state import Order
from domain.product.model import Product
from domain.shared.money import Money
from domain.stock.state import Stock
from domain.store.model import Store
from projections.inventory import InventoryRow
from projections.orders import OrderRow

T = TypeVar("T")

Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=500)]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
Quantity = Annotated[int, Meta(gt=0, le=1_000_000_000)]
NonNegative = Annotated[int, Meta(ge=0, le=1_000_000_000)]
Amount = Annotated[Decimal, Meta(description='decimal string, e.g. "12.30"')]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


class MoneyIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency

    @staticmethod
    def to_money(value: MoneyIn | None) -> Money | None:
        return None if value is None else Money.of(value.amount, value.currency)


# --- stores, locations, products -------------------------------------------------------------


class StoreIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    currency: Currency
    allow_backorders: bool = False
    reservation_ttl_minutes: Annotated[int, Meta(gt=0, le=525_600)] | None = None


class StoreOut(msgspec.Struct):
    code: str
    name: str
    currency: str
    allow_backorders: bool
    reservation_ttl_minutes: int | None = None
    locations: list[str] = []

    @classmethod
    def of(cls, store: Store) -> StoreOut:
        return cls(
            store.code,
            store.name,
            store.currency,
            store.allow_backorders,
            store.reservation_ttl_minutes,
            list(store.locations),
        )


class StoreLocationsIn(msgspec.Struct, forbid_unknown_fields=True):
    """The whole set of locations that fulfil the store (replaces the previous set)."""

    locations: Annotated[list[Code], Meta(max_length=500)]


class LocationIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    country: Country
    region: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class LocationOut(msgspec.Struct):
    id: UUID
    code: str
    name: str
    country: str
    region: str | None

    @classmethod
    def of(cls, location: Location, location_id: UUID) -> LocationOut:
        return cls(location_id, location.code, location.name, location.country, location.region)


class DimensionsIn(msgspec.Struct, forbid_unknown_fields=True):
    length_mm: NonNegative
    width_mm: NonNegative
    height_mm: NonNegative


class PriceIn(msgspec.Struct, forbid_unknown_fields=True):
    store: Code
    amount: Amount
    currency: Currency


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Code
    name: Name
    weight_grams: NonNegative = 0
    dimensions: DimensionsIn = msgspec.field(default_factory=lambda: DimensionsIn(0, 0, 0))
    prices: Annotated[list[PriceIn], Meta(max_length=100)] = msgspec.field(default_factory=list)
    unit_cost: MoneyIn | None = None


class ProductOut(msgspec.Struct):
    sku: str
    name: str
    weight_grams: int
    dimensions: DimensionsIn
    prices: dict[str, Money]
    unit_cost: Money | None

    @classmethod
    def of(cls, product: Product, visible: frozenset[str] | None = None) -> ProductOut:
        """`visible`: the caller's stores (None: all); other stores' prices are left out."""
        dims = product.dimensions
        return cls(
            product.sku,
            product.name,
            product.weight_grams,
            DimensionsIn(dims.length_mm, dims.width_mm, dims.height_mm)
            if dims
            else DimensionsIn(0, 0, 0),
            {store: price for store, price in product.prices.items() if store in visible}
            if visible is not None
            else product.prices,
            product.unit_cost,
        )


# --- stock -----------------------------------------------------------------------------------


class ReceiptLineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Code
    quantity: Quantity
    unit_cost: MoneyIn | None = None


class ReceiptIn(msgspec.Struct, forbid_unknown_fields=True):
    location: Code
    lines: Annotated[list[ReceiptLineIn], Meta(min_length=1, max_length=1000)]
    reference: Text | None = None


class AdjustmentIn(msgspec.Struct, forbid_unknown_fields=True):
    location: Code
    sku: Code
    reason: Reason
    counted: NonNegative | None = None
    delta: Annotated[int, Meta(ge=-1_000_000_000, le=1_000_000_000)] | None = None


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    from_location: Code
    to_location: Code
    sku: Code
    quantity: Quantity


class StockOut(msgspec.Struct):
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    average_cost: Money | None
    version: int

    @classmethod
    def of(cls, stock: Stock, version: int) -> StockOut:
        return cls(
            stock.sku,
            stock.location,
            stock.on_hand,
            stock.reserved,
            stock.available,
            stock.average_cost,
            version,
        )


class ReceiptOut(msgspec.Struct):
    items: list[StockOut]


class TransferOut(msgspec.Struct):
    source: StockOut
    target: StockOut


# --- orders ----------------------------------------------------------------------------------


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    name: Name


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    line1: Name
    city: Name
    postal_code: Annotated[str, Meta(min_length=1, max_length=20)]
    country: Country
    line2: Name | None = None
    region: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class DiscountIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, Meta(pattern="^(percentage|fixed)$")]
    value: Annotated[Decimal, Meta(description="percent (0-100) or an amount of the currency")]


class OrderLineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Code
    quantity: Quantity
    unit_price: Amount
    discount: DiscountIn | None = None


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    store: Code
    channel: Code
    currency: Currency
    customer: CustomerIn
    shipping_address: AddressIn
    lines: Annotated[list[OrderLineIn], Meta(min_length=1, max_length=500)]
    external_id: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    discount: DiscountIn | None = None
    shipping_charge: Amount | None = None


class CancelLineIn(msgspec.Struct, forbid_unknown_fields=True):
    line_no: Annotated[int, Meta(ge=1)]
    quantity: Quantity


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    lines: Annotated[list[CancelLineIn], Meta(min_length=1, max_length=500)] | None = None


class LineChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    line_no: Annotated[int, Meta(ge=1)]
    quantity: Annotated[int, Meta(ge=0)]


class EditLinesIn(msgspec.Struct, forbid_unknown_fields=True):
    """`lines`: new quantities of existing lines (0 removes one); `add`: new lines."""

    lines: Annotated[list[LineChangeIn], Meta(max_length=500)] = []
    add: Annotated[list[OrderLineIn], Meta(max_length=500)] = []


class HoldIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class AllocationOut(msgspec.Struct):
    location: str
    quantity: int


class DiscountOut(msgspec.Struct):
    """`value` is a percentage (0-100) or a fixed amount of the order's currency."""

    kind: str
    value: Decimal

    @classmethod
    def of(cls, discount: Discount | None) -> DiscountOut | None:
        return cls(str(discount.kind), discount.value) if discount is not None else None


class OrderLineOut(msgspec.Struct):
    line_no: int
    sku: str
    quantity: int
    cancelled: int
    open_quantity: int
    unit_price: Money
    line_total: Money
    allocations: list[AllocationOut]
    backordered: int
    discount: DiscountOut | None
    shipped: int = 0
    returned: int = 0


class OrderShipmentOut(msgspec.Struct):
    id: UUID
    location: str
    stage: str
    lines: dict[int, int]
    shipped_at: datetime | None
    delivered_at: datetime | None


class Totals(msgspec.Struct):
    subtotal: Money
    units: int
    backordered: int


class OrderOut(msgspec.Struct):
    id: UUID
    version: int
    status: str
    on_hold: bool
    hold_reason: str | None
    store: str
    channel: str
    external_id: str | None
    currency: str
    customer: CustomerIn
    shipping_address: AddressIn
    lines: list[OrderLineOut]
    totals: Totals
    placed_at: datetime | None
    cancel_reason: str | None
    discount: DiscountOut | None
    shipping_charge: Money | None
    shipments: list[OrderShipmentOut] = msgspec.field(default_factory=list)
    confirmed_at: datetime | None = None
    customer_id: UUID | None = None
    """The customer's id, for GET /v1/customers/{id}/export and erasure (absent on orders
    placed before customers had ids)."""

    @classmethod
    def of(cls, order: Order, version: int) -> OrderOut:
        assert order.id is not None
        assert order.customer is not None
        assert order.shipping_address is not None
        lines = [
            OrderLineOut(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                cancelled=line.cancelled,
                open_quantity=line.open_quantity,
                unit_price=line.unit_price,
                line_total=line.unit_price.times(line.open_quantity),
                allocations=[AllocationOut(loc, qty) for loc, qty in line.allocations.items()],
                backordered=line.backordered,
                discount=DiscountOut.of(line.discount),
                shipped=line.shipped,
                returned=line.returned,
            )
            for line in sorted(order.lines.values(), key=lambda line: line.line_no)
        ]
        return cls(
            id=order.id,
            version=version,
            status=str(order.status),
            on_hold=order.on_hold,
            hold_reason=order.hold_reason,
            store=order.store,
            channel=order.channel,
            external_id=order.external_id,
            currency=order.currency,
            customer=CustomerIn(order.customer.email, order.customer.name),
            shipping_address=AddressIn(**msgspec.structs.asdict(order.shipping_address)),
            lines=lines,
            totals=Totals(
                order.total,
                sum(line.open_quantity for line in order.lines.values()),
                order.backordered,
            ),
            placed_at=order.placed_at,
            cancel_reason=order.cancel_reason,
            discount=DiscountOut.of(order.discount),
            shipping_charge=order.shipping_charge,
            shipments=[
                OrderShipmentOut(
                    sid, ref.location, str(ref.stage), ref.lines, ref.shipped_at, ref.delivered_at
                )
                for sid, ref in order.shipments.items()
            ],
            confirmed_at=order.confirmed_at,
            customer_id=order.customer_id,
        )


class OrderSummaryOut(msgspec.Struct):
    id: UUID
    version: int
    status: str
    on_hold: bool
    store: str
    channel: str
    external_id: str | None
    total: Money
    units: int
    backordered: int
    customer_email: str
    customer_name: str
    country: str
    placed_at: datetime
    updated_at: datetime
    discount: DiscountOut | None
    shipping_charge: Money | None

    @classmethod
    def from_row(cls, row: OrderRow) -> OrderSummaryOut:
        fields = msgspec.structs.asdict(row)
        fields["total"] = Money.of(row.total, fields.pop("currency"))
        charges = msgspec.json.decode(fields.pop("state"), type=_Charges)
        fields["discount"] = DiscountOut.of(charges.discount)
        fields["shipping_charge"] = charges.shipping_charge
        return cls(**fields)


class _Charges(msgspec.Struct):
    """The order-level charges, read from a stored order state without decoding the rest."""

    discount: Discount | None = None
    shipping_charge: Money | None = None


class InventoryOut(msgspec.Struct):
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    average_cost: Money | None
    version: int
    bin: str | None = None
    safety_stock: int = 0
    reorder_point: int = 0
    shipped: int = 0
    restocked: int = 0

    @classmethod
    def from_row(cls, row: InventoryRow) -> InventoryOut:
        fields = msgspec.structs.asdict(row)
        currency = fields.pop("cost_currency")
        if row.average_cost is not None and currency:
            fields["average_cost"] = Money(row.average_cost, currency)
        return cls(**fields)
