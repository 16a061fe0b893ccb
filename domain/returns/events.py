"""Events of a return (RMA): authorized for shipped units, then received into a location."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.shared.events import DomainEvent


class ReturnLine(msgspec.Struct, frozen=True, kw_only=True):
    line_no: int
    sku: str
    quantity: int
    reason: str
    category: str


class ReceivedLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    quantity: int
    condition: str


class ReturnEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "return"


class ReturnAuthorized(ReturnEvent, frozen=True, kw_only=True):
    return_id: UUID
    order_id: UUID
    store: str
    lines: list[ReturnLine]
    authorized_at: datetime


class ReturnReceived(ReturnEvent, frozen=True, kw_only=True):
    location: str
    lines: list[ReceivedLine]
    received_at: datetime
