"""Orders: place (reserving stock atomically), read, list, cancel, hold, release."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.orders import NewOrder, Placed
from application.streams import Loaded
from domain.order.decide import LineChange, RequestedLine
from domain.order.errors import OrderNotFound
from domain.order.events import Address, Customer, Discount, DiscountKind
from domain.order.state import Order, OrderStatus
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import (
    CancelIn,
    DiscountIn,
    EditLinesIn,
    HoldIn,
    OrderIn,
    OrderOut,
    OrderSummaryOut,
    Page,
)
from interfaces.http.scope import order_in_scope, store_in_scope
from interfaces.http.support import (
    if_match,
    json_response,
    page_after,
    page_of,
    run_command,
)
from projections.orders import list_orders

Limit = Annotated[int, Parameter(ge=1, le=200)]
STATUSES = {status.value for status in OrderStatus}


def _order(loaded: Loaded[Order]) -> tuple[int, OrderOut, int]:
    return 200, OrderOut.of(loaded.state, loaded.version), loaded.version


def _discount(given: DiscountIn | None) -> Discount | None:
    return None if given is None else Discount(DiscountKind(given.kind), given.value)


def orders_page(
    container: Container,
    principal: Principal,
    *,
    status: str | None,
    store: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    stores: frozenset[str] | None,
) -> Page[OrderSummaryOut]:
    """One page of orders, newest first (the route below and the dashboard's Orders page);
    `stores`: those the caller may see (None: all)."""
    if status is not None and status not in STATUSES:
        raise ApiProblem(
            400, "invalid_status", f"status must be one of {', '.join(sorted(STATUSES))}"
        )
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        rows = list_orders(
            curs,
            principal.tenant_id,
            status=status,
            store=store,
            search=q,
            limit=limit + 1,
            after=page_after(cursor),
            stores=stores,
        )
    return page_of(
        rows,
        limit,
        lambda last: [last.placed_at.isoformat(), str(last.id)],
        OrderSummaryOut.from_row,
    )


class OrderController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @post("/", sync_to_thread=True, permission=Permission.ORDERS_WRITE)
    def place(
        self,
        data: OrderIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Places an order and reserves its stock in one atomic append.

        Re-posting the same (channel, external_id) returns the existing order with 200.
        Without enough stock, and unless the store allows backorders, the answer is 409
        `insufficient_stock` and nothing is written.
        """
        store_in_scope(principal, data.store)
        new = NewOrder(
            store=data.store,
            channel=data.channel,
            external_id=data.external_id,
            currency=data.currency,
            customer=Customer(data.customer.email, data.customer.name),
            shipping_address=Address(**msgspec.structs.asdict(data.shipping_address)),
            lines=[
                RequestedLine(line.sku, line.quantity, line.unit_price, _discount(line.discount))
                for line in data.lines
            ],
            discount=_discount(data.discount),
            shipping_charge=data.shipping_charge,
        )

        def render(placed: Placed) -> tuple[int, OrderOut, int]:
            order = placed.order
            return (
                (201 if placed.created else 200),
                OrderOut.of(order.state, order.version),
                order.version,
            )

        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.orders.place(ctx, new),
            render,
        )

    @get("/{order_id:uuid}", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def detail(self, order_id: UUID, container: Container, principal: Principal) -> Response[bytes]:
        """One order, read from its event stream (always current). ETag is its version."""
        loaded = container.orders.get(principal.tenant_id, order_id)
        if not principal.sees(loaded.state.store):
            raise OrderNotFound(f"no order {order_id}")
        return json_response(
            200,
            msgspec.json.encode(OrderOut.of(loaded.state, loaded.version)),
            version=loaded.version,
        )

    @get("/", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def list(
        self,
        container: Container,
        principal: Principal,
        status: str | None = None,
        store: str | None = None,
        q: str | None = None,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[OrderSummaryOut]:
        """Orders, newest first, filtered by status, store or a search over customer and
        external id (read model; see /ready for its lag)."""
        return orders_page(
            container,
            principal,
            status=status,
            store=store,
            q=q,
            limit=limit,
            cursor=cursor,
            stores=principal.stores,
        )

    @post("/{order_id:uuid}/cancel", sync_to_thread=True, permission=Permission.ORDERS_WRITE)
    def cancel(
        self,
        order_id: UUID,
        data: CancelIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Cancels the whole order, or some quantities of some lines; releases their stock."""
        order_in_scope(container, principal, order_id)
        lines = None
        if data.lines is not None:
            lines = {}
            for line in data.lines:
                lines[line.line_no] = lines.get(line.line_no, 0) + line.quantity
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.orders.cancel(
                ctx, order_id, reason=data.reason, lines=lines, if_version=expected
            ),
            _order,
        )

    @post("/{order_id:uuid}/lines", sync_to_thread=True, permission=Permission.ORDERS_WRITE)
    def edit_lines(
        self,
        order_id: UUID,
        data: EditLinesIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Edits the order before picking: `lines` sets existing lines' quantities (0 removes a
        line), `add` appends new lines. Stock is reserved and released per line and open
        shipments shrink, in one append; a line being picked is 409 `picking_started`."""
        order_in_scope(container, principal, order_id)
        changes = [LineChange(line.line_no, line.quantity) for line in data.lines]
        added = [
            RequestedLine(line.sku, line.quantity, line.unit_price, _discount(line.discount))
            for line in data.add
        ]
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.orders.edit(
                ctx, order_id, changes=changes, added=added, if_version=expected
            ),
            _order,
        )

    @post("/{order_id:uuid}/hold", sync_to_thread=True, permission=Permission.ORDERS_WRITE)
    def hold(
        self,
        order_id: UUID,
        data: HoldIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Puts the order on hold: it will not be picked until released."""
        order_in_scope(container, principal, order_id)
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.orders.hold(
                ctx, order_id, reason=data.reason, if_version=expected
            ),
            _order,
        )

    @post("/{order_id:uuid}/release", sync_to_thread=True, permission=Permission.ORDERS_WRITE)
    def release(
        self,
        order_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Releases a hold."""
        order_in_scope(container, principal, order_id)
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            {"release": str(order_id)},
            lambda ctx: container.orders.release(ctx, order_id, if_version=expected),
            _order,
        )
