"""Events of the stock-reservation ledger: one stream per SKU x location.

A reservation belongs to one order line (`order_id`, `line_no`) and ends exactly once per unit:
committed (shipped), released (cancel, short pick, edit) or expired. Reservations recorded before
schema version 2 carry no line and are upcast with `line_no = 0` (an order-level reservation).
"""

from __future__ import annotations

from uuid import UUID

from domain.shared.events import DomainEvent
from domain.shared.money import Money


class StockEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "stock"
    sku: str
    location: str


class StockReceived(StockEvent, frozen=True, kw_only=True):
    quantity: int
    unit_cost: Money | None = None
    reference: str | None = None


class StockAdjusted(StockEvent, frozen=True, kw_only=True):
    delta: int
    counted: int | None
    reason: str


class StockTransferredOut(StockEvent, frozen=True, kw_only=True):
    transfer_id: UUID
    to_location: str
    quantity: int


class StockTransferredIn(StockEvent, frozen=True, kw_only=True):
    transfer_id: UUID
    from_location: str
    quantity: int
    unit_cost: Money | None = None


class StockReserved(StockEvent, frozen=True, kw_only=True):
    schema_version = 2
    order_id: UUID
    quantity: int
    line_no: int = 0


class StockReservationReleased(StockEvent, frozen=True, kw_only=True):
    schema_version = 2
    order_id: UUID
    quantity: int
    reason: str
    line_no: int = 0


class StockCommitted(StockEvent, frozen=True, kw_only=True):
    """Reserved units left in a shipment: on hand and reserved both drop by `quantity`."""

    order_id: UUID
    line_no: int
    shipment_id: UUID
    quantity: int


class StockReservationExpired(StockEvent, frozen=True, kw_only=True):
    order_id: UUID
    line_no: int
    quantity: int


class StockRestocked(StockEvent, frozen=True, kw_only=True):
    """Returned units back on the shelf."""

    return_id: UUID
    quantity: int


class StockSlotted(StockEvent, frozen=True, kw_only=True):
    """Where the SKU is kept at this location (bin / slot), which orders pick walks."""

    bin: str


class StockPolicySet(StockEvent, frozen=True, kw_only=True):
    reorder_point: int
    safety_stock: int


class LowStock(StockEvent, frozen=True, kw_only=True):
    """Available fell to or below the reorder point (emitted once per crossing)."""

    available: int
    reorder_point: int
