"""Customers: find by email, export everything held about one, erase one (ADR 0035)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from adapters.postgres.history import stream_page
from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.customers import CUSTOMER
from application.streams import Loaded
from domain.customer.model import Customer, CustomerNotFound
from interfaces.bootstrap import Container
from interfaces.http.customer_schemas import CustomerExportOut, CustomerOut, ProfileOut
from interfaces.http.fulfilment_schemas import ReturnOut, ShipmentOut
from interfaces.http.money_schemas import InvoiceOut
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import AddressIn, CustomerIn, OrderOut
from interfaces.http.support import json_response, run_command
from projections.customers import CustomerStreams, customer_streams

MAX_EVENTS_PER_STREAM = 100_000


def _visible(container: Container, principal: Principal, customer_id: UUID) -> CustomerStreams:
    """The customer's streams the caller may see; 404 for another tenant's customer, and for a
    store-scoped caller who sees none of the customer's orders."""
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        streams = customer_streams(curs, customer_id, stores=principal.stores)
    known = container.customer_keys.known(principal.tenant_id, customer_id)
    if not known or (principal.stores is not None and not streams):
        raise CustomerNotFound(f"no customer {customer_id}")
    return streams


def _customer(container: Container, customer_id: UUID) -> Loaded[Customer]:
    return container.streams.load({customer_id: CUSTOMER})[customer_id]


def _out(customer_id: UUID, loaded: Loaded[Customer]) -> CustomerOut:
    return CustomerOut(customer_id, loaded.state.erased_at)


class CustomerController(Controller):
    path = "/v1/customers"
    tags = ["customers"]

    @get("/", sync_to_thread=True, permission=Permission.CUSTOMERS_READ)
    def find(self, email: str, container: Container, principal: Principal) -> CustomerOut:
        """The customer with this email (case-insensitive). An erased customer's email no
        longer leads anywhere: 404."""
        customer_id = container.customer_keys.find(principal.tenant_id, email)
        if customer_id is None:
            raise ApiProblem(404, "customer_not_found", "no customer with this email")
        _visible(container, principal, customer_id)
        return _out(customer_id, _customer(container, customer_id))

    @get("/{customer_id:uuid}/export", sync_to_thread=True, permission=Permission.CUSTOMERS_READ)
    def export(
        self, customer_id: UUID, container: Container, principal: Principal
    ) -> Response[bytes]:
        """Everything held about a customer (data portability): their orders, shipments,
        returns and invoices, and every event of those, with personal data opened; after an
        erasure the same, with `[erased]` in place of it. Store-scoped callers get what their
        stores hold. Read from the read models (see /ready for their lag) and the event
        store."""
        streams = _visible(container, principal, customer_id)
        tenant = principal.tenant_id
        now = datetime.now(UTC)
        orders = [container.orders.get(tenant, sid) for sid in streams.orders]
        invoices = [container.invoices.get(tenant, sid) for sid in streams.invoices]
        customers: dict[tuple[str, str], CustomerIn] = {}
        addresses: dict[bytes, AddressIn] = {}
        for order in reversed(orders):
            if order.state.customer is not None and order.state.shipping_address is not None:
                who = order.state.customer
                customers.setdefault((who.email, who.name), CustomerIn(who.email, who.name))
                where = msgspec.structs.asdict(order.state.shipping_address)
                addresses.setdefault(msgspec.json.encode(where), AddressIn(**where))
        stream_ids = [
            *streams.orders, *streams.shipments, *streams.returns, *streams.invoices, customer_id
        ]  # fmt: skip
        body = CustomerExportOut(
            id=customer_id,
            exported_at=now,
            erased_at=_customer(container, customer_id).state.erased_at,
            profile=ProfileOut(list(customers.values()), list(addresses.values())),
            orders=[OrderOut.of(o.state, o.version) for o in orders],
            shipments=[
                ShipmentOut.of(s.state, s.version)
                for s in (container.fulfilment.get(tenant, sid) for sid in streams.shipments)
            ],
            returns=[
                ReturnOut.of(r.state, r.version)
                for r in (container.returns.get(tenant, sid) for sid in streams.returns)
            ],
            invoices=[InvoiceOut.of(i.state, i.version, now) for i in invoices],
            events=[
                event
                for sid in stream_ids
                for event in stream_page(
                    container.datastore, sid, after_version=0, limit=MAX_EVENTS_PER_STREAM
                )
            ],
        )
        return json_response(200, msgspec.json.encode(body))

    @post("/{customer_id:uuid}/erase", sync_to_thread=True, permission=Permission.CUSTOMERS_ERASE)
    def erase(
        self,
        customer_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Erases the customer's personal data (crypto-shredding): their key is deleted, so
        their name, email and addresses read as `[erased]` in every event, read model, analytics
        table and export from now on; amounts, SKUs, quantities, ids and dates stay, and the
        audit hash chain still verifies. Appends `customer.CustomerErased`. Idempotent: erasing
        again answers the same."""
        _visible(container, principal, customer_id)

        def render(erased: Loaded[Customer]) -> tuple[int, CustomerOut, int]:
            return 200, _out(customer_id, erased), erased.version

        return run_command(
            request,
            container,
            principal,
            {"customer_id": str(customer_id)},
            lambda ctx: container.customers.erase(ctx, customer_id),
            render,
        )
