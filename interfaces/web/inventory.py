"""Inventory: levels per SKU x location (filters, low stock, cursor paging, live), and the
stock movements: receive, adjust (cycle count) and transfer, sent to the REST API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.routes.stock import inventory_page
from interfaces.http.schemas import InventoryOut
from interfaces.web.pages import location_choices, location_scope, render

PAGE_SIZE = 50
LOW_STOCK_LIMIT = 200
"""Low stock comes in longer pages: the list of what to reorder is short, or there is a bigger
problem."""


def _levels(
    container: Container,
    principal: Principal,
    *,
    sku: str | None,
    location: str | None,
    low: bool,
    cursor: str | None,
    locations: frozenset[str] | None,
) -> tuple[list[InventoryOut], str | None]:
    """`locations`: those the page may show (None: all)."""
    page = inventory_page(
        container,
        principal,
        sku=sku,
        location=location,
        locations=locations,
        limit=LOW_STOCK_LIMIT if low else PAGE_SIZE,
        cursor=cursor,
        low=low,
    )
    return page.items, page.next_cursor


class InventoryPages(Controller):
    path = "/dashboard/inventory"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.STOCK_READ)
    def levels(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        sku: str | None = None,
        location: str | None = None,
        low: bool = False,
        cursor: str | None = None,
    ) -> Template:
        """Stock levels, with the forms that move stock."""
        sku, location = (sku or "").strip() or None, location or None
        locations = location_scope(request, container, principal)
        levels, next_cursor = _levels(
            container,
            principal,
            sku=sku,
            location=location,
            low=low,
            cursor=cursor,
            locations=locations,
        )
        return render(
            "inventory/levels.html",
            request,
            container,
            principal,
            current="inventory",
            levels=levels,
            next_cursor=next_cursor,
            first_page=cursor is None,
            sku=sku,
            location=location,
            low=low,
            locations=location_choices(request, container, principal),
        )

    @get("/rows", sync_to_thread=True, permission=Permission.STOCK_READ)
    def rows(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        sku: str | None = None,
        location: str | None = None,
        low: bool = False,
    ) -> Template:
        """The first page's rows, re-fetched when stock changes."""
        sku, location = (sku or "").strip() or None, location or None
        levels, _ = _levels(
            container,
            principal,
            sku=sku,
            location=location,
            low=low,
            cursor=None,
            locations=location_scope(request, container, principal),
        )
        return render(
            "inventory/_rows.html",
            request,
            container,
            principal,
            current="inventory",
            levels=levels,
            sku=sku,
            location=location,
            low=low,
        )
