from __future__ import annotations

from domain.shared.errors import DomainError, InvalidCommand, NotFound


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"


class NothingToShip(DomainError):
    code = "nothing_to_ship"


class ExceedsAllocation(DomainError):
    """More units than are reserved at the location and not yet in a shipment."""

    code = "exceeds_allocation"


class WrongShipmentStatus(DomainError):
    code = "wrong_shipment_status"


class PickingStarted(DomainError):
    """Units already being picked can no longer be cancelled."""

    code = "picking_started"


class OverPicked(InvalidCommand):
    code = "over_picked"


class PackingMismatch(InvalidCommand):
    code = "packing_mismatch"


class OrderOnHold(DomainError):
    code = "order_on_hold"


class OrderClosed(DomainError):
    code = "order_closed"
