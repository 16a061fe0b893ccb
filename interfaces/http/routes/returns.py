"""Returns (RMAs), order confirmation and stock settings (bins, reorder point, safety stock)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.streams import Loaded
from domain.order.state import Order
from domain.returns.decide import ReceivedUnits, RequestedReturn
from domain.returns.reasons import CATEGORIES
from domain.returns.state import Return
from interfaces.bootstrap import Container
from interfaces.http.fulfilment_schemas import (
    ReasonCategoryOut,
    ReasonOut,
    ReceiveIn,
    ReturnIn,
    ReturnOut,
    ReturnReasonsOut,
    StockSettingsIn,
    StockSettingsOut,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import OrderOut, Page
from interfaces.http.scope import location_in_scope, order_in_scope, return_in_scope
from interfaces.http.support import Cursor, if_match, json_response, page_after, run_command
from projections.returns import list_returns, reason_counts

Limit = Annotated[int, Parameter(ge=1, le=200)]
STATUSES = ("authorized", "received")
REASON_CATEGORIES = sorted(set(CATEGORIES.values()))


def _return(status: int) -> Any:
    def render(loaded: Loaded[Return]) -> tuple[int, ReturnOut, int]:
        return status, ReturnOut.of(loaded.state, loaded.version), loaded.version

    return render


class ReturnController(Controller):
    path = "/v1"
    tags = ["returns"]

    @post(
        "/orders/{order_id:uuid}/returns",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def authorize(
        self,
        order_id: UUID,
        data: ReturnIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Authorizes a return (RMA) of shipped units within the return window."""
        order_in_scope(container, principal, order_id)
        lines = [RequestedReturn(x.sku, x.quantity, x.reason) for x in data.lines]
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.returns.authorize(ctx, order_id, lines),
            _return(201),
        )

    @get("/returns", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def list(
        self,
        container: Container,
        principal: Principal,
        status: str | None = None,
        reason_category: str | None = None,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[ReturnOut]:
        """Returns, newest first, by status and reason category (read model; see /ready)."""
        if status is not None and status not in STATUSES:
            raise ApiProblem(400, "invalid_status", f"status must be one of {', '.join(STATUSES)}")
        if reason_category is not None and reason_category not in REASON_CATEGORIES:
            raise ApiProblem(
                400,
                "invalid_reason_category",
                f"reason_category must be one of {', '.join(REASON_CATEGORIES)}",
            )
        position = page_after(cursor)
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            rows = list_returns(
                curs,
                principal.tenant_id,
                status=status,
                category=reason_category,
                limit=limit + 1,
                after=position,
                stores=principal.stores,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more and rows[-1].state.authorized_at is not None:
            last = rows[-1].state
            next_cursor = Cursor.encode([last.authorized_at.isoformat(), str(last.id)])
        items = [ReturnOut.of(row.state, row.version) for row in rows]
        return Page(items, next_cursor)

    @get("/returns/reasons", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def reasons(
        self,
        container: Container,
        principal: Principal,
        from_: Annotated[datetime | None, Parameter(query="from")] = None,
        to: datetime | None = None,
    ) -> ReturnReasonsOut:
        """Returns and units per reason category (and per reason) authorized in [from, to)."""
        for name, value in (("from", from_), ("to", to)):
            if value is not None and value.tzinfo is None:
                raise ApiProblem(400, "invalid_time", f"{name} needs a UTC offset (RFC 3339)")
        if from_ is not None and to is not None and to <= from_:
            raise ApiProblem(400, "invalid_period", "to must be after from")
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            counts = reason_counts(
                curs, principal.tenant_id, since=from_, until=to, stores=principal.stores
            )
        categories: dict[str, ReasonCategoryOut] = {}
        for count in counts:
            if count.reason is None:
                categories[count.category] = ReasonCategoryOut(
                    count.category, count.returns, count.units, []
                )
            else:
                categories[count.category].reasons.append(
                    ReasonOut(count.reason, count.returns, count.units)
                )
        return ReturnReasonsOut(from_, to, list(categories.values()))

    @get("/returns/{return_id:uuid}", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def detail(
        self, return_id: UUID, container: Container, principal: Principal
    ) -> Response[bytes]:
        """One return, read from its stream."""
        return_in_scope(container, principal, return_id)
        loaded = container.returns.get(principal.tenant_id, return_id)
        body = msgspec.json.encode(ReturnOut.of(loaded.state, loaded.version))
        return json_response(200, body, version=loaded.version)

    @post(
        "/returns/{return_id:uuid}/receive",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def receive(
        self,
        return_id: UUID,
        data: ReceiveIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Receives returned units: sellable ones are restocked, damaged ones written off."""
        return_in_scope(container, principal, return_id)
        lines = [ReceivedUnits(x.sku, x.quantity, x.condition) for x in data.lines]
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.returns.receive(
                ctx, return_id, location=data.location, lines=lines
            ),
            _return(200),
        )

    @post(
        "/orders/{order_id:uuid}/confirm", sync_to_thread=True, permission=Permission.ORDERS_WRITE
    )
    def confirm(
        self,
        order_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Confirms (e.g. paid) an order: its store's reservation TTL no longer applies."""
        order_in_scope(container, principal, order_id)
        expected = if_match(request)

        def render(loaded: Loaded[Order]) -> tuple[int, OrderOut, int]:
            return 200, OrderOut.of(loaded.state, loaded.version), loaded.version

        return run_command(
            request,
            container,
            principal,
            {"confirm": str(order_id)},
            lambda ctx: container.orders.confirm(ctx, order_id, if_version=expected),
            render,
        )

    @post("/stock/settings", sync_to_thread=True, permission=Permission.STOCK_WRITE)
    def stock_settings(
        self,
        data: StockSettingsIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sets a SKU's bin at a location, its reorder point and safety stock (any of them).
        available = on hand - reserved - safety stock; falling to the reorder point emits
        LowStock."""
        location_in_scope(container, principal, data.location)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.stock_settings.configure(
                ctx,
                location=data.location,
                sku=data.sku,
                bin=data.bin,
                reorder_point=data.reorder_point,
                safety_stock=data.safety_stock,
            ),
            lambda loaded: (200, StockSettingsOut.of(loaded.state, loaded.version), loaded.version),
        )
