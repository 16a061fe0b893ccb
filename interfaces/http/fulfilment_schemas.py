"""Request and response bodies of shipments, pick lists, returns and stock settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.returns.state import Return
from domain.shared.money import Money
from domain.shipment.events import Parcel
from domain.shipment.rates import Quote
from domain.shipment.state import Shipment
from domain.stock.state import Stock
from interfaces.http.schemas import Code, NonNegative, Quantity, Text
from projections.shipments import ShipmentRow

LineNo = Annotated[int, Meta(ge=1, le=500)]
Millimetres = Annotated[int, Meta(gt=0, le=10_000)]
Grams = Annotated[int, Meta(gt=0, le=1_000_000)]
Bin = Annotated[str, Meta(min_length=1, max_length=64)]


class LineQuantityIn(msgspec.Struct, forbid_unknown_fields=True):
    line_no: LineNo
    quantity: Quantity


class ShipmentIn(msgspec.Struct, forbid_unknown_fields=True):
    location: Code
    lines: Annotated[list[LineQuantityIn], Meta(min_length=1, max_length=500)] | None = None
    priority: Literal["standard", "expedited"] = "standard"


class PickLineIn(msgspec.Struct, forbid_unknown_fields=True):
    line_no: LineNo
    picked: NonNegative
    short: NonNegative = 0


class PickIn(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[PickLineIn], Meta(min_length=1, max_length=500)]
    reroute_short: bool = False


class ParcelIn(msgspec.Struct, forbid_unknown_fields=True):
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres
    weight_grams: Grams
    lines: Annotated[list[LineQuantityIn], Meta(min_length=1, max_length=500)]


class PackIn(msgspec.Struct, forbid_unknown_fields=True):
    parcels: Annotated[list[ParcelIn], Meta(min_length=1, max_length=100)] | None = None


class LabelIn(msgspec.Struct, forbid_unknown_fields=True):
    carrier: Annotated[str, Meta(min_length=1, max_length=32)]
    service: Annotated[str, Meta(min_length=1, max_length=64)]
    format: Literal["zpl", "pdf"] = "zpl"


class DeliverIn(msgspec.Struct, forbid_unknown_fields=True):
    delivered_at: datetime | None = None


class TrackingIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["in_transit", "out_for_delivery", "delivered", "exception"]
    description: Annotated[str, Meta(min_length=1, max_length=500)]
    occurred_at: datetime | None = None
    place: Text | None = None


class ShipmentLineOut(msgspec.Struct):
    line_no: int
    sku: str
    quantity: int
    picked: int
    short: int


class LabelOut(msgspec.Struct):
    carrier: str
    service: str
    tracking_number: str
    cost: Money
    label_format: str


class StepOut(msgspec.Struct):
    status: str
    at: datetime
    detail: str | None


class ShipmentOut(msgspec.Struct):
    id: UUID
    version: int
    order_id: UUID
    store: str
    location: str
    status: str
    priority: str
    lines: list[ShipmentLineOut]
    parcels: list[Parcel]
    label: LabelOut | None
    exceptions: int
    timeline: list[StepOut]
    created_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, shipment: Shipment, version: int) -> ShipmentOut:
        assert shipment.id is not None
        assert shipment.order_id is not None
        label = shipment.label
        return cls(
            id=shipment.id,
            version=version,
            order_id=shipment.order_id,
            store=shipment.store,
            location=shipment.location,
            status=str(shipment.status),
            priority=shipment.priority,
            lines=[
                ShipmentLineOut(line.line_no, line.sku, line.quantity, line.picked, line.short)
                for line in sorted(shipment.lines.values(), key=lambda line: line.line_no)
            ],
            parcels=shipment.parcels,
            label=LabelOut(
                label.carrier, label.service, label.tracking_number, label.cost, label.label_format
            )
            if label
            else None,
            exceptions=shipment.exceptions,
            timeline=[
                StepOut(str(step.status), step.at, step.detail) for step in shipment.timeline
            ],
            created_at=shipment.created_at,
            shipped_at=shipment.shipped_at,
            delivered_at=shipment.delivered_at,
        )


class ShipmentSummaryOut(msgspec.Struct):
    id: UUID
    version: int
    order_id: UUID
    store: str
    location: str
    status: str
    priority: str
    units: int
    picked_units: int
    carrier: str | None
    service: str | None
    tracking_number: str | None
    label_cost: Money | None
    exceptions: int
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: ShipmentRow) -> ShipmentSummaryOut:
        cost = (
            Money(row.label_cost, row.label_currency)
            if row.label_cost is not None and row.label_currency
            else None
        )
        return cls(
            id=row.id,
            version=row.version,
            order_id=row.order_id,
            store=row.store,
            location=row.location,
            status=row.status,
            priority=row.priority,
            units=row.units,
            picked_units=row.picked_units,
            carrier=row.carrier,
            service=row.service,
            tracking_number=row.tracking_number,
            label_cost=cost,
            exceptions=row.exceptions,
            created_at=row.created_at,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
        )


class QuoteOut(msgspec.Struct):
    carrier: str
    service: str
    amount: Money
    zone: str
    transit_days: int
    billable_grams: int
    cheapest: bool
    fastest: bool

    @classmethod
    def of(cls, quote: Quote, cheapest: Quote | None, fastest: Quote | None) -> QuoteOut:
        return cls(
            quote.carrier,
            quote.service,
            quote.amount,
            quote.zone,
            quote.transit_days,
            quote.billable_grams,
            quote == cheapest,
            quote == fastest,
        )


class RatesOut(msgspec.Struct):
    shipment_id: UUID
    parcels: list[Parcel]
    quotes: list[QuoteOut]


class PackingOut(msgspec.Struct):
    shipment_id: UUID
    parcels: list[Parcel]


class PickOut(msgspec.Struct):
    bin: str | None
    sku: str
    quantity: int
    shipment_id: UUID
    line_no: int
    priority: str


class SkuTotalOut(msgspec.Struct):
    sku: str
    bin: str | None
    quantity: int


class WaveShipmentOut(msgspec.Struct):
    id: UUID
    order_id: UUID
    priority: str
    created_at: datetime | None


class PickListOut(msgspec.Struct):
    location: str
    wave: int
    wave_size: int
    shipments: list[WaveShipmentOut]
    picks: list[PickOut]
    totals: list[SkuTotalOut]
    next_wave: int | None


# --- returns ---------------------------------------------------------------------------------

ReasonCode = Literal[
    "damaged_in_transit",
    "lost_in_transit",
    "arrived_late",
    "defective",
    "not_as_described",
    "wrong_item",
    "missing_parts",
    "wrong_size",
    "changed_mind",
    "better_price",
    "other",
]


class ReturnLineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Code
    quantity: Quantity
    reason: ReasonCode


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[ReturnLineIn], Meta(min_length=1, max_length=500)]


class ReceiveLineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Code
    quantity: Quantity
    condition: Literal["sellable", "damaged"]


class ReceiveIn(msgspec.Struct, forbid_unknown_fields=True):
    location: Code
    lines: Annotated[list[ReceiveLineIn], Meta(min_length=1, max_length=500)]


class ReturnLineOut(msgspec.Struct):
    line_no: int
    sku: str
    quantity: int
    reason: str
    category: str


class ReceivedLineOut(msgspec.Struct):
    sku: str
    quantity: int
    condition: str


class ReturnOut(msgspec.Struct):
    id: UUID
    version: int
    order_id: UUID
    store: str
    status: str
    lines: list[ReturnLineOut]
    received: list[ReceivedLineOut]
    location: str | None
    authorized_at: datetime | None
    received_at: datetime | None

    @classmethod
    def of(cls, rma: Return, version: int) -> ReturnOut:
        assert rma.id is not None
        assert rma.order_id is not None
        return cls(
            id=rma.id,
            version=version,
            order_id=rma.order_id,
            store=rma.store,
            status=rma.status,
            lines=[
                ReturnLineOut(x.line_no, x.sku, x.quantity, x.reason, x.category) for x in rma.lines
            ],
            received=[ReceivedLineOut(x.sku, x.quantity, x.condition) for x in rma.received],
            location=rma.location,
            authorized_at=rma.authorized_at,
            received_at=rma.received_at,
        )


# --- stock settings --------------------------------------------------------------------------


class StockSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    location: Code
    sku: Code
    bin: Bin | None = None
    reorder_point: NonNegative | None = None
    safety_stock: NonNegative | None = None


class StockSettingsOut(msgspec.Struct):
    sku: str
    location: str
    bin: str | None
    reorder_point: int
    safety_stock: int
    on_hand: int
    reserved: int
    available: int
    version: int

    @classmethod
    def of(cls, stock: Stock, version: int) -> StockSettingsOut:
        return cls(
            stock.sku,
            stock.location,
            stock.bin,
            stock.reorder_point,
            stock.safety_stock,
            stock.on_hand,
            stock.reserved,
            stock.available,
            version,
        )


class ReasonOut(msgspec.Struct):
    reason: str
    returns: int
    units: int


class ReasonCategoryOut(msgspec.Struct):
    category: str
    returns: int
    units: int
    reasons: list[ReasonOut]


class ReturnReasonsOut(msgspec.Struct):
    """Returns authorized in [from, to) per reason category; a return counts once per category
    and once per reason it names."""

    from_: datetime | None = msgspec.field(name="from")
    to: datetime | None
    categories: list[ReasonCategoryOut]
