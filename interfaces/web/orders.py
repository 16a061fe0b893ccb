"""Orders: the list (filters, search, cursor paging, live), and one order with its lines,
allocations, shipments, invoices and payments, its event timeline, and its actions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.response import Template

from adapters.postgres.history import HistoryEvent, stream_page
from application.access import Permission, Principal
from domain.order.errors import OrderNotFound
from domain.order.state import OrderStatus
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import OrderBillingOut
from interfaces.http.routes.money_support import utc_now
from interfaces.http.routes.orders import orders_page
from interfaces.http.schemas import OrderOut, OrderSummaryOut
from interfaces.web.pages import render, store_scope

PAGE_SIZE = 25
TIMELINE_LIMIT = 500
STATUSES = tuple(status.value for status in OrderStatus)


def _orders(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    *,
    status: str | None,
    q: str | None,
    cursor: str | None,
) -> tuple[list[OrderSummaryOut], str | None]:
    page = orders_page(
        container,
        principal,
        status=status,
        store=None,
        q=q,
        limit=PAGE_SIZE,
        cursor=cursor,
        stores=store_scope(request, container, principal),
    )
    return page.items, page.next_cursor


def _actor_names(container: Container, principal: Principal) -> dict[str, str]:
    """`user:<id>` to the user's email, for the timeline."""
    users = container.users.store.list_users(principal.tenant_id)
    return {f"user:{user.id}": user.email for user in users}


def _event_name(event: HistoryEvent) -> str:
    """`order.OrderLinesCancelled` → `Order lines cancelled`."""
    name = event.type.split(".", 1)[-1]
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words[:1].upper() + words[1:]


class OrderPages(Controller):
    path = "/dashboard/orders"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def list(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        status: str | None = None,
        q: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        """Orders, newest first."""
        status, q = status or None, (q or "").strip() or None
        orders, next_cursor = _orders(
            request, container, principal, status=status, q=q, cursor=cursor
        )
        return render(
            "orders/list.html",
            request,
            container,
            principal,
            current="orders",
            orders=orders,
            next_cursor=next_cursor,
            first_page=cursor is None,
            status=status,
            q=q,
            statuses=STATUSES,
        )

    @get("/rows", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def rows(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        status: str | None = None,
        q: str | None = None,
    ) -> Template:
        """The first page's rows, re-fetched when orders change."""
        status, q = status or None, (q or "").strip() or None
        orders, next_cursor = _orders(
            request, container, principal, status=status, q=q, cursor=None
        )
        return render(
            "orders/_rows.html",
            request,
            container,
            principal,
            current="orders",
            orders=orders,
            next_cursor=next_cursor,
            status=status,
            q=q,
        )

    @get("/{order_id:uuid}", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def detail(
        self,
        order_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Template:
        """One order, folded from its stream (always current)."""
        loaded = container.orders.get(principal.tenant_id, order_id)
        if not principal.sees(loaded.state.store):
            raise OrderNotFound(f"no order {order_id}")
        billing = None
        if principal.may(Permission.FINANCE_READ):
            billing = OrderBillingOut.of(
                container.invoices.billing(principal.tenant_id, order_id), utc_now()
            )
        timeline = stream_page(container.datastore, order_id, after_version=0, limit=TIMELINE_LIMIT)
        return render(
            "orders/detail.html",
            request,
            container,
            principal,
            current="orders",
            order=OrderOut.of(loaded.state, loaded.version),
            billing=billing,
            timeline=list(reversed(timeline)),
            event_name=_event_name,
            actors=_actor_names(container, principal),
        )
