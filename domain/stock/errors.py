from __future__ import annotations

from domain.shared.errors import DomainError


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class BelowReserved(DomainError):
    """On hand may never drop below what is reserved for orders."""

    code = "below_reserved"


class NoSuchReservation(DomainError):
    code = "no_such_reservation"
