"""Customers: lookup, erasure and the data-portability export (ADR 0035)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from adapters.postgres.history import HistoryEvent
from interfaces.http.fulfilment_schemas import ReturnOut, ShipmentOut
from interfaces.http.money_schemas import InvoiceOut
from interfaces.http.schemas import AddressIn, CustomerIn, OrderOut


class CustomerOut(msgspec.Struct):
    id: UUID
    erased_at: datetime | None


class ProfileOut(msgspec.Struct):
    """The personal data held, as the customer's orders and invoices carry it (newest first);
    `[erased]` once erased."""

    customers: list[CustomerIn]
    addresses: list[AddressIn]


class CustomerExportOut(msgspec.Struct):
    id: UUID
    exported_at: datetime
    erased_at: datetime | None
    profile: ProfileOut
    orders: list[OrderOut]
    shipments: list[ShipmentOut]
    returns: list[ReturnOut]
    invoices: list[InvoiceOut]
    events: list[HistoryEvent]
    """Every event of those orders, shipments, returns and invoices, and of the customer, with
    personal data opened (or erased): payments and refunds are among the invoices' events."""
