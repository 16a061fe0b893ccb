from __future__ import annotations

from domain.shared.errors import DomainError, InvalidCommand, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"


class UnknownSku(InvalidCommand):
    code = "unknown_sku"


class UnknownStore(InvalidCommand):
    code = "unknown_store"


class UnknownLine(InvalidCommand):
    code = "unknown_line"


class OrderAlreadyCancelled(DomainError):
    code = "order_cancelled"


class OrderAlreadyHeld(DomainError):
    code = "order_on_hold"


class OrderNotHeld(DomainError):
    code = "order_not_on_hold"
