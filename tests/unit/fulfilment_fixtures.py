"""Shared givens for the shipment and return specifications: one order of 3 A + 2 B to Berlin,
reserved at BER (per line), and the stock behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.location.model import Location
from domain.order.events import (
    Address,
    Allocation,
    Customer,
    LineAllocation,
    LineQuantity,
    OrderAllocated,
    OrderEvent,
    OrderLine,
    OrderLinesShipped,
    OrderPickingStarted,
    OrderPlaced,
    OrderShipmentDelivered,
    OrderShipmentPlanned,
)
from domain.order.state import Order
from domain.order.state import fold as fold_order
from domain.shared.money import Money
from domain.shipment.events import (
    Parcel,
    ParcelLine,
    PickedLine,
    ShipmentCreated,
    ShipmentEvent,
    ShipmentLine,
    ShipmentPacked,
    ShipmentPicked,
    ShipmentPickRecorded,
    ShipmentShipped,
)
from domain.stock.events import StockEvent, StockReceived, StockReserved
from domain.stock.state import Stock
from domain.stock.state import fold as fold_stock

ORDER = UUID("00000000-0000-0000-0000-0000000000a1")
SHIPMENT = UUID("00000000-0000-0000-0000-0000000000c1")
RMA = UUID("00000000-0000-0000-0000-0000000000d1")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=5)
TO = Address(name="Ada", line1="Str. 1", city="Berlin", postal_code="10115", country="DE")
BERLIN = Location(code="BER", name="Berlin", country="DE", region="BE", exists=True)
MUNICH = Location(code="MUC", name="Munich", country="DE", region="BY", exists=True)


def placed(at: datetime = NOW) -> list[OrderEvent]:
    return [
        OrderPlaced(
            order_id=ORDER,
            store="web",
            channel="web",
            external_id=None,
            currency="EUR",
            customer=Customer("ada@example.com", "Ada"),
            shipping_address=TO,
            lines=[
                OrderLine(1, "A", 3, Money.of("5.00", "EUR")),
                OrderLine(2, "B", 2, Money.of("7.00", "EUR")),
            ],
            placed_at=at,
        ),
        OrderAllocated(
            lines=[
                LineAllocation(1, [Allocation("BER", 3)], 0),
                LineAllocation(2, [Allocation("BER", 2)], 0),
            ]
        ),
    ]


def created(
    lines: tuple[tuple[int, str, int], ...] = ((1, "A", 3), (2, "B", 2)),
) -> ShipmentCreated:
    return ShipmentCreated(
        shipment_id=SHIPMENT,
        order_id=ORDER,
        store="web",
        location="BER",
        lines=[ShipmentLine(no, sku, qty) for no, sku, qty in lines],
        created_at=NOW,
        destination=TO,
        order_placed_at=NOW,
    )


def planned(lines: tuple[tuple[int, int], ...] = ((1, 3), (2, 2))) -> OrderShipmentPlanned:
    return OrderShipmentPlanned(
        shipment_id=SHIPMENT,
        location="BER",
        lines=[LineQuantity(no, qty) for no, qty in lines],
    )


def picked_all() -> list[ShipmentEvent]:
    return [
        ShipmentPickRecorded(
            lines=[PickedLine(1, "A", 3, 0), PickedLine(2, "B", 2, 0)], picked_at=NOW
        ),
        ShipmentPicked(lines=[ShipmentLine(1, "A", 3), ShipmentLine(2, "B", 2)], picked_at=NOW),
    ]


def parcel() -> Parcel:
    return Parcel(
        length_mm=300,
        width_mm=200,
        height_mm=100,
        weight_grams=900,
        lines=[ParcelLine(1, 3), ParcelLine(2, 2)],
    )


def packed() -> ShipmentPacked:
    return ShipmentPacked(parcels=[parcel()], packed_at=NOW)


def shipped() -> ShipmentShipped:
    return ShipmentShipped(
        shipment_id=SHIPMENT,
        order_id=ORDER,
        store="web",
        location="BER",
        lines=[ShipmentLine(1, "A", 3), ShipmentLine(2, "B", 2)],
        shipped_at=LATER,
    )


def order(*events: OrderEvent) -> Order:
    return fold_order([*placed(), *events])


def order_shipped(at: datetime = LATER, delivered: bool = False) -> Order:
    events: list[OrderEvent] = [
        planned(),
        OrderPickingStarted(shipment_id=SHIPMENT),
        OrderLinesShipped(
            shipment_id=SHIPMENT,
            location="BER",
            lines=[LineQuantity(1, 3), LineQuantity(2, 2)],
            shipped_at=at,
        ),
    ]
    if delivered:
        events.append(OrderShipmentDelivered(shipment_id=SHIPMENT, delivered_at=at))
    return order(*events)


def stock(
    sku: str, location: str = "BER", on_hand: int = 10, holds: dict[int, int] | None = None
) -> Stock:
    events: list[StockEvent] = [StockReceived(sku=sku, location=location, quantity=on_hand)]
    for line_no, quantity in (holds or {}).items():
        events.append(
            StockReserved(
                sku=sku, location=location, order_id=ORDER, line_no=line_no, quantity=quantity
            )
        )
    return fold_stock(events)


def reserved_stock() -> dict[tuple[str, str], Stock]:
    return {("A", "BER"): stock("A", holds={1: 3}), ("B", "BER"): stock("B", holds={2: 2})}
