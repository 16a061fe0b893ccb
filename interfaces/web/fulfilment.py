"""Fulfilment: the work waiting per location, printable pick lists, the shipments (filter by
location and stage, live), one shipment's pick / pack (box recommendation) / rates and label /
ship, and returns: authorise on a shipped shipment, receive in the returns list."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID

from litestar import Controller, Request, get
from litestar.response import Template

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from domain.shipment.state import ShipmentStatus
from interfaces.bootstrap import Container
from interfaces.http.fulfilment_schemas import (
    QuoteOut,
    ReasonCode,
    ReturnOut,
    ShipmentOut,
    ShipmentSummaryOut,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.shipments import pick_list_for, shipments_page
from interfaces.http.scope import shipment_in_scope
from interfaces.web.pages import location_choices, render, store_scope
from projections.returns import list_returns
from projections.shipments import PickWork, pick_work

PAGE_SIZE = 50
STAGES = tuple(status.value for status in ShipmentStatus)
RETURN_REASONS = get_args(ReasonCode)
OPEN_RETURNS = 20
WAVE_SIZE = 25


def _shipments(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    *,
    status: str | None,
    location: str | None,
    cursor: str | None,
) -> tuple[list[ShipmentSummaryOut], list[PickWork], str | None]:
    stores = store_scope(request, container, principal)
    page = shipments_page(
        container,
        principal,
        status=status,
        location=location,
        order_id=None,
        limit=PAGE_SIZE,
        cursor=cursor,
        stores=stores,
    )
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        work = pick_work(curs, principal.tenant_id, stores)
    return page.items, work, page.next_cursor


class FulfilmentPages(Controller):
    path = "/dashboard/fulfilment"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def overview(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        status: str | None = None,
        location: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        """Work per location and the shipments."""
        status, location = status or None, location or None
        shipments, work, next_cursor = _shipments(
            request, container, principal, status=status, location=location, cursor=cursor
        )
        return render(
            "fulfilment/overview.html",
            request,
            container,
            principal,
            current="fulfilment",
            shipments=shipments,
            work=work,
            next_cursor=next_cursor,
            first_page=cursor is None,
            status=status,
            location=location,
            stages=STAGES,
            locations=location_choices(request, container, principal),
            returns=_open_returns(container, principal, store_scope(request, container, principal)),
        )

    @get("/returns", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def returns(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """The returns waiting to be received, re-fetched when returns change."""
        return render(
            "fulfilment/_returns.html",
            request,
            container,
            principal,
            current="fulfilment",
            returns=_open_returns(container, principal, store_scope(request, container, principal)),
            locations=location_choices(request, container, principal),
        )

    @get("/pick-list", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def pick_list(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        location: str,
        wave: int = 1,
    ) -> Template:
        """A printable pick list: one wave of open shipments at a location, in bin order."""
        if wave < 1:
            raise ApiProblem(400, "invalid_wave", "wave counts from 1")
        return render(
            "fulfilment/pick_list.html",
            request,
            container,
            principal,
            current="fulfilment",
            pick_list=pick_list_for(container, principal, location, wave, WAVE_SIZE),
        )

    @get(
        "/shipments/{shipment_id:uuid}", sync_to_thread=True, permission=Permission.FULFILMENT_READ
    )
    def shipment(
        self,
        shipment_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Template:
        """One shipment, folded from its stream, with what its next step needs: the box
        recommendation before packing, the carriers' quotes before the label."""
        shipment_in_scope(container, principal, shipment_id)
        loaded = container.fulfilment.get(principal.tenant_id, shipment_id)
        shipment = ShipmentOut.of(loaded.state, loaded.version)
        recommended = quotes = None
        if shipment.status in ("picked", "packed") and not shipment.parcels:
            recommended = container.fulfilment.recommend(principal.tenant_id, shipment_id)
        if shipment.status == "packed":
            rates = container.fulfilment.rates(principal.tenant_id, shipment_id)
            quotes = [QuoteOut.of(q, rates.cheapest, rates.fastest) for q in rates.quotes]
        return render(
            "fulfilment/shipment.html",
            request,
            container,
            principal,
            current="fulfilment",
            shipment=shipment,
            recommended=recommended,
            quotes=quotes,
            reasons=RETURN_REASONS,
            locations=location_choices(request, container, principal),
        )


def _open_returns(
    container: Container, principal: Principal, stores: frozenset[str] | None
) -> list[ReturnOut]:
    """Authorised returns waiting to be received (of `stores`; None: all)."""
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        rows = list_returns(
            curs,
            principal.tenant_id,
            status="authorized",
            category=None,
            limit=OPEN_RETURNS,
            after=None,
            stores=stores,
        )
    return [ReturnOut.of(row.state, row.version) for row in rows]
