"""Stock receipts, adjustments, transfers, and inventory levels."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.stock import ReceiptLine
from interfaces.bootstrap import Container
from interfaces.http.schemas import (
    AdjustmentIn,
    InventoryOut,
    MoneyIn,
    Page,
    ReceiptIn,
    ReceiptOut,
    StockOut,
    TransferIn,
    TransferOut,
)
from interfaces.http.scope import location_in_scope, visible_locations
from interfaces.http.support import Cursor, page_of, run_command
from projections.inventory import list_inventory

Limit = Annotated[int, Parameter(ge=1, le=500)]


def inventory_page(
    container: Container,
    principal: Principal,
    *,
    sku: str | None,
    location: str | None,
    locations: frozenset[str] | None,
    limit: int,
    cursor: str | None,
    low: bool = False,
) -> Page[InventoryOut]:
    """One page of inventory levels by SKU and location (the route below and the dashboard's
    Inventory page); `locations`: those the caller may see (None: all)."""
    after = Cursor.decode(cursor)
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        rows = list_inventory(
            curs,
            principal.tenant_id,
            sku=sku,
            location=location,
            limit=limit + 1,
            after=(str(after[0]), str(after[1])) if after and len(after) == 2 else None,
            locations=locations,
            low=low,
        )
    return page_of(rows, limit, lambda last: [last.sku, last.location], InventoryOut.from_row)


class StockController(Controller):
    path = "/v1"
    tags = ["stock"]

    @post("/stock/receipts", sync_to_thread=True, permission=Permission.STOCK_WRITE)
    def receive(
        self,
        data: ReceiptIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Receives goods into a location; a unit cost feeds the moving-average cost."""
        location_in_scope(container, principal, data.location)
        lines = [
            ReceiptLine(
                line.sku,
                line.quantity,
                MoneyIn.to_money(line.unit_cost),
            )
            for line in data.lines
        ]
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.stock.receive(
                ctx, location=data.location, lines=lines, reference=data.reference
            ),
            lambda loaded: (
                201,
                ReceiptOut([StockOut.of(item.state, item.version) for item in loaded]),
                None,
            ),
        )

    @post("/stock/adjustments", sync_to_thread=True, permission=Permission.STOCK_WRITE)
    def adjust(
        self,
        data: AdjustmentIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """A cycle count (`counted`) or a correction (`delta`), with a reason."""
        location_in_scope(container, principal, data.location)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.stock.adjust(
                ctx,
                location=data.location,
                sku=data.sku,
                reason=data.reason,
                counted=data.counted,
                delta=data.delta,
            ),
            lambda loaded: (201, StockOut.of(loaded.state, loaded.version), loaded.version),
        )

    @post("/stock/transfers", sync_to_thread=True, permission=Permission.STOCK_WRITE)
    def transfer(
        self,
        data: TransferIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Moves available units between two locations, atomically."""
        location_in_scope(container, principal, data.from_location)
        location_in_scope(container, principal, data.to_location)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.stock.transfer(
                ctx,
                sku=data.sku,
                from_location=data.from_location,
                to_location=data.to_location,
                quantity=data.quantity,
            ),
            lambda pair: (
                201,
                TransferOut(
                    StockOut.of(pair[0].state, pair[0].version),
                    StockOut.of(pair[1].state, pair[1].version),
                ),
                None,
            ),
        )

    @get("/inventory", sync_to_thread=True, permission=Permission.STOCK_READ)
    def inventory(
        self,
        container: Container,
        principal: Principal,
        sku: str | None = None,
        location: str | None = None,
        limit: Limit = 100,
        cursor: str | None = None,
    ) -> Page[InventoryOut]:
        """Inventory levels per SKU x location (read model; see /ready for its lag). A caller
        limited to some stores sees the locations that fulfil them."""
        return inventory_page(
            container,
            principal,
            sku=sku,
            location=location,
            locations=visible_locations(container, principal),
            limit=limit,
            cursor=cursor,
        )
