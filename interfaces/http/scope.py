"""Store scopes (ADRs 0028, 0037): for a caller limited to some stores, an order (or its
shipment, return or invoice) of another store does not exist — the same 404 as another
tenant's — and a location exists only if it fulfils one of their stores. Unscoped callers pay
nothing: nothing is loaded for them."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from application.access import Principal
from domain.invoice.errors import InvoiceNotFound
from domain.order.errors import OrderNotFound
from domain.returns.decide import ReturnNotFound
from domain.shipment.errors import ShipmentNotFound
from domain.store.model import Store
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem


def store_in_scope(principal: Principal, store: str) -> None:
    if not principal.sees(store):
        raise ApiProblem(404, "unknown_store", f"no store {store!r}")


def visible_locations(container: Container, principal: Principal) -> frozenset[str] | None:
    """The location codes a caller may see: None for every location, else those assigned to
    the stores in their scope (`PUT /v1/stores/{code}/locations`)."""
    if principal.stores is None:
        return None
    return locations_of(container.catalog.stores(principal.tenant_id), principal)


def locations_of(stores: Iterable[Store], principal: Principal) -> frozenset[str] | None:
    """Of these stores (the tenant's), the locations a caller may see (None: all)."""
    if principal.stores is None:
        return None
    return frozenset(
        code for store in stores if store.code in principal.stores for code in store.locations
    )


def location_in_scope(container: Container, principal: Principal, location: str) -> None:
    visible = visible_locations(container, principal)
    if visible is not None and location not in visible:
        raise ApiProblem(404, "unknown_location", f"no location {location!r}")


def order_in_scope(container: Container, principal: Principal, order_id: UUID) -> None:
    if principal.stores is None:
        return
    order = container.orders.get(principal.tenant_id, order_id).state
    if not principal.sees(order.store):
        raise OrderNotFound(f"no order {order_id}")


def shipment_in_scope(container: Container, principal: Principal, shipment_id: UUID) -> None:
    if principal.stores is None:
        return
    shipment = container.fulfilment.get(principal.tenant_id, shipment_id).state
    if not principal.sees(shipment.store):
        raise ShipmentNotFound(f"no shipment {shipment_id}")


def return_in_scope(container: Container, principal: Principal, return_id: UUID) -> None:
    if principal.stores is None:
        return
    found = container.returns.get(principal.tenant_id, return_id).state
    if not principal.sees(found.store):
        raise ReturnNotFound(f"no return {return_id}")


def invoice_in_scope(container: Container, principal: Principal, invoice_id: UUID) -> None:
    if principal.stores is None:
        return
    invoice = container.invoices.get(principal.tenant_id, invoice_id).state
    if not principal.sees(invoice.document.store):
        raise InvoiceNotFound(f"no invoice {invoice_id}")
