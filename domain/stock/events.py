"""Events of the stock-reservation ledger: one stream per SKU x location."""

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
    order_id: UUID
    quantity: int


class StockReservationReleased(StockEvent, frozen=True, kw_only=True):
    order_id: UUID
    quantity: int
    reason: str
