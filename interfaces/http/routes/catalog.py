"""Stores, locations and products."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import Parameter

from application.access import Permission, Principal
from domain.product.model import Dimensions
from domain.shared.ids import location_stream_id
from domain.shared.money import Money
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import (
    LocationIn,
    LocationOut,
    MoneyIn,
    Page,
    ProductIn,
    ProductOut,
    StoreIn,
    StoreLocationsIn,
    StoreOut,
)
from interfaces.http.scope import store_in_scope, visible_locations
from interfaces.http.support import Cursor, page_of, run_command

Limit = Annotated[int, Parameter(ge=1, le=200)]


class CatalogController(Controller):
    path = "/v1"
    tags = ["catalog"]

    @post("/stores", sync_to_thread=True, permission=Permission.CATALOG_WRITE)
    def create_store(
        self,
        data: StoreIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Opens a store (a sales channel's shop front) with its currency and backorder policy."""
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.catalog_commands.open_store(
                ctx,
                code=data.code,
                name=data.name,
                currency=data.currency,
                allow_backorders=data.allow_backorders,
                reservation_ttl_minutes=data.reservation_ttl_minutes,
            ),
            lambda loaded: (201, StoreOut.of(loaded.state), loaded.version),
        )

    @get("/stores", sync_to_thread=True, permission=Permission.CATALOG_READ)
    def list_stores(self, container: Container, principal: Principal) -> Page[StoreOut]:
        """Lists the tenant's stores (those in the caller's scope)."""
        stores = container.catalog.stores(principal.tenant_id)
        return Page([StoreOut.of(store) for store in stores if principal.sees(store.code)], None)

    @put("/stores/{code:str}/locations", sync_to_thread=True, permission=Permission.CATALOG_WRITE)
    def assign_store_locations(
        self,
        code: str,
        data: StoreLocationsIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sets the locations that fulfil a store. A caller limited to some stores sees the
        stock, movements and pick work of their stores' locations only (ADR 0037)."""
        store_in_scope(principal, code)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.catalog_commands.assign_store_locations(
                ctx, code=code, locations=data.locations
            ),
            lambda loaded: (200, StoreOut.of(loaded.state), loaded.version),
        )

    @post("/locations", sync_to_thread=True, permission=Permission.CATALOG_WRITE)
    def create_location(
        self,
        data: LocationIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Opens a stock location (warehouse) with its country and region."""
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.catalog_commands.open_location(
                ctx, code=data.code, name=data.name, country=data.country, region=data.region
            ),
            lambda loaded: (
                201,
                LocationOut.of(loaded.state, location_stream_id(principal.tenant_id, data.code)),
                loaded.version,
            ),
        )

    @get("/locations", sync_to_thread=True, permission=Permission.CATALOG_READ)
    def list_locations(self, container: Container, principal: Principal) -> Page[LocationOut]:
        """Lists the tenant's stock locations (for a caller limited to some stores: those that
        fulfil them)."""
        visible = visible_locations(container, principal)
        locations = [
            location
            for location in container.catalog.locations(principal.tenant_id)
            if visible is None or location.code in visible
        ]
        return Page(
            [
                LocationOut.of(loc, location_stream_id(principal.tenant_id, loc.code))
                for loc in locations
            ],
            None,
        )

    @post("/products", sync_to_thread=True, permission=Permission.CATALOG_WRITE)
    def create_product(
        self,
        data: ProductIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Defines a product: SKU, name, weight, dimensions, price per store, unit cost."""
        prices = {price.store: Money.of(price.amount, price.currency) for price in data.prices}
        if len(prices) != len(data.prices):
            raise ApiProblem(422, "validation_failed", "each store may have only one price")
        unit_cost = MoneyIn.to_money(data.unit_cost)
        dims = data.dimensions
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.catalog_commands.define_product(
                ctx,
                sku=data.sku,
                name=data.name,
                weight_grams=data.weight_grams,
                dimensions=Dimensions(dims.length_mm, dims.width_mm, dims.height_mm),
                prices=prices,
                unit_cost=unit_cost,
            ),
            lambda loaded: (201, ProductOut.of(loaded.state), loaded.version),
        )

    @get("/products", sync_to_thread=True, permission=Permission.CATALOG_READ)
    def list_products(
        self,
        container: Container,
        principal: Principal,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[ProductOut]:
        """Lists products by SKU, a page at a time."""
        after = Cursor.decode(cursor)
        products = container.catalog.products(
            principal.tenant_id, after=str(after[0]) if after else None, limit=limit + 1
        )
        return page_of(
            products, limit, lambda last: [last.sku], lambda p: ProductOut.of(p, principal.stores)
        )

    @get("/products/{sku:str}", sync_to_thread=True, permission=Permission.CATALOG_READ)
    def get_product(self, sku: str, container: Container, principal: Principal) -> ProductOut:
        """One product by SKU."""
        product = container.catalog.product(principal.tenant_id, sku)
        if product is None:
            raise ApiProblem(404, "product_not_found", f"no product with SKU {sku!r}")
        return ProductOut.of(product, principal.stores)
