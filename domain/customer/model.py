"""Customer: a person whose orders Kontor holds, and the right to have their data erased.

Personal data (name, email, address) lives sealed in order, shipment and invoice events; the
customer's stream records only that they were erased, so it carries nothing personal itself.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.shared.errors import NotFound
from domain.shared.events import DomainEvent


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerErased(DomainEvent, frozen=True, kw_only=True):
    """The customer's key was deleted: their name, email and addresses read as erased in every
    event, read model and export from now on; amounts, SKUs and dates stay."""

    aggregate = "customer"
    customer_id: UUID
    erased_at: datetime


class Customer(msgspec.Struct, frozen=True, kw_only=True):
    erased_at: datetime | None = None


def evolve(event: CustomerErased, state: Customer) -> Customer:
    return Customer(erased_at=state.erased_at or event.erased_at)


class EraseCustomer(msgspec.Struct, frozen=True, kw_only=True):
    customer_id: UUID
    now: datetime


def erase(state: Customer, command: EraseCustomer) -> list[CustomerErased]:
    """Idempotent: erasing an erased customer decides nothing."""
    if state.erased_at is not None:
        return []
    return [CustomerErased(customer_id=command.customer_id, erased_at=command.now)]
