"""Returns (RMAs), order confirmation and stock settings (bins, reorder point, safety stock)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from application.streams import Loaded
from application.tenants import Principal
from domain.order.state import Order
from domain.returns.decide import ReceivedUnits, RequestedReturn
from domain.returns.state import Return
from interfaces.bootstrap import Container
from interfaces.http.fulfilment_schemas import (
    ReceiveIn,
    ReturnIn,
    ReturnOut,
    StockSettingsIn,
    StockSettingsOut,
)
from interfaces.http.schemas import OrderOut
from interfaces.http.support import if_match, json_response, run_command


def _return(status: int) -> Any:
    def render(loaded: Loaded[Return]) -> tuple[int, ReturnOut, int]:
        return status, ReturnOut.of(loaded.state, loaded.version), loaded.version

    return render


class ReturnController(Controller):
    path = "/v1"
    tags = ["returns"]

    @post("/orders/{order_id:uuid}/returns", sync_to_thread=True)
    def authorize(
        self,
        order_id: UUID,
        data: ReturnIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Authorizes a return (RMA) of shipped units within the return window."""
        lines = [RequestedReturn(x.sku, x.quantity, x.reason) for x in data.lines]
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.returns.authorize(ctx, order_id, lines),
            _return(201),
        )

    @get("/returns/{return_id:uuid}", sync_to_thread=True)
    def detail(
        self, return_id: UUID, container: Container, principal: Principal
    ) -> Response[bytes]:
        """One return, read from its stream."""
        loaded = container.returns.get(principal.tenant_id, return_id)
        body = msgspec.json.encode(ReturnOut.of(loaded.state, loaded.version))
        return json_response(200, body, version=loaded.version)

    @post("/returns/{return_id:uuid}/receive", sync_to_thread=True)
    def receive(
        self,
        return_id: UUID,
        data: ReceiveIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Receives returned units: sellable ones are restocked, damaged ones written off."""
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

    @post("/orders/{order_id:uuid}/confirm", sync_to_thread=True)
    def confirm(
        self,
        order_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Confirms (e.g. paid) an order: its store's reservation TTL no longer applies."""
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

    @post("/stock/settings", sync_to_thread=True)
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
