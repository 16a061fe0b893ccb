"""Events of the Order aggregate: one stream per order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

import msgspec

from domain.shared.events import DomainEvent
from domain.shared.money import Money


class Customer(msgspec.Struct, frozen=True):
    email: str
    name: str


class Address(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


class DiscountKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class Discount(msgspec.Struct, frozen=True):
    """`value` is a percentage (0-100) or a fixed amount in the order's currency (the whole
    line's or the whole order's, not per unit)."""

    kind: DiscountKind
    value: Decimal


class OrderLine(msgspec.Struct, frozen=True):
    line_no: int
    sku: str
    quantity: int
    unit_price: Money
    discount: Discount | None = None


class Allocation(msgspec.Struct, frozen=True):
    location: str
    quantity: int


class LineAllocation(msgspec.Struct, frozen=True):
    line_no: int
    allocations: list[Allocation]
    backordered: int


class CancelledLine(msgspec.Struct, frozen=True):
    line_no: int
    quantity: int
    released: list[Allocation]
    backorder_dropped: int


class LineQuantity(msgspec.Struct, frozen=True):
    line_no: int
    quantity: int


class OrderEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "order"


PERSONAL_CUSTOMER = ("customer.email", "customer.name")


def personal_address(field: str) -> tuple[str, ...]:
    """The parts of an address that identify a person; country and region stay readable (tax,
    shipping zones and analytics need them and they identify no one)."""
    return tuple(f"{field}.{part}" for part in ("name", "line1", "line2", "city", "postal_code"))


class OrderPlaced(OrderEvent, frozen=True, kw_only=True):
    """`customer_id` is absent on orders placed before customers had ids (ADR 0035)."""

    personal_data = (*PERSONAL_CUSTOMER, *personal_address("shipping_address"))
    data_subject = "customer_id"

    order_id: UUID
    store: str
    channel: str
    external_id: str | None
    currency: str
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine]
    placed_at: datetime
    discount: Discount | None = None
    shipping_charge: Money | None = None
    customer_id: UUID | None = None


class OrderAllocated(OrderEvent, frozen=True, kw_only=True):
    lines: list[LineAllocation]


class OrderHeld(OrderEvent, frozen=True, kw_only=True):
    reason: str


class OrderReleased(OrderEvent, frozen=True, kw_only=True):
    pass


class OrderLinesCancelled(OrderEvent, frozen=True, kw_only=True):
    lines: list[CancelledLine]
    reason: str


class OrderCancelled(OrderEvent, frozen=True, kw_only=True):
    reason: str


class OrderLinesEdited(OrderEvent, frozen=True, kw_only=True):
    """Lines added and quantities raised before picking. Their units are allocated by the
    `OrderAllocated` that follows; lowered quantities and removed lines are an
    `OrderLinesCancelled` (reason `edit`) before this event."""

    added: list[OrderLine]
    increased: list[LineQuantity]


# --- fulfilment: shipments, returns, reservation expiry ----------------------------------------


class OrderShipmentPlanned(OrderEvent, frozen=True, kw_only=True):
    """Allocated units at `location` were put into a shipment."""

    shipment_id: UUID
    location: str
    lines: list[LineQuantity]


class OrderShipmentLinesDropped(OrderEvent, frozen=True, kw_only=True):
    """Cancelled units left a shipment whose picking had not started."""

    shipment_id: UUID
    lines: list[LineQuantity]


class OrderPickingStarted(OrderEvent, frozen=True, kw_only=True):
    shipment_id: UUID


class OrderLinesShortPicked(OrderEvent, frozen=True, kw_only=True):
    """Units not found at the shipment's location: their reservation was released and they
    wait as backorders (unless re-routed by an OrderAllocated that follows)."""

    shipment_id: UUID
    location: str
    lines: list[LineQuantity]


class OrderLinesShipped(OrderEvent, frozen=True, kw_only=True):
    shipment_id: UUID
    location: str
    lines: list[LineQuantity]
    shipped_at: datetime


class OrderShipmentDelivered(OrderEvent, frozen=True, kw_only=True):
    shipment_id: UUID
    delivered_at: datetime


class OrderConfirmed(OrderEvent, frozen=True, kw_only=True):
    """Paid or otherwise confirmed: the store's reservation TTL no longer applies."""

    confirmed_at: datetime


class OrderReservationsExpired(OrderEvent, frozen=True, kw_only=True):
    """Not confirmed within the store's reservation TTL: every reservation was released."""

    lines: list[CancelledLine]
    expired_at: datetime


class OrderReturnAuthorized(OrderEvent, frozen=True, kw_only=True):
    return_id: UUID
    lines: list[LineQuantity]
