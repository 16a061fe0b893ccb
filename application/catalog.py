"""Use cases for reference data: stores, locations, products."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from application.context import CommandContext
from application.executor import Executor, Outcome
from application.kinds import LOCATION, PRODUCT, STORE
from application.ports import Catalog
from application.streams import Loaded
from domain.location.model import Location, open_location
from domain.product.model import Dimensions, Product, define_product
from domain.shared.errors import InvalidCommand
from domain.shared.ids import location_stream_id, product_stream_id, store_stream_id
from domain.shared.money import Money
from domain.store.model import Store, assign_locations, open_store


class CatalogCommands:
    def __init__(self, executor: Executor, catalog: Catalog) -> None:
        self.executor = executor
        self.catalog = catalog

    def open_location(
        self, ctx: CommandContext, *, code: str, name: str, country: str, region: str | None
    ) -> Loaded[Location]:
        stream = location_stream_id(ctx.tenant_id, code)

        def decide(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Location]]:
            events = open_location(
                loaded[stream].state, code=code, name=name, country=country, region=region
            )
            return Outcome({stream: list(events)}, lambda after: after[stream])

        return self.executor.execute(ctx, {stream: LOCATION}, decide)

    def open_store(
        self,
        ctx: CommandContext,
        *,
        code: str,
        name: str,
        currency: str,
        allow_backorders: bool,
        reservation_ttl_minutes: int | None = None,
    ) -> Loaded[Store]:
        stream = store_stream_id(ctx.tenant_id, code)

        def decide(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Store]]:
            events = open_store(
                loaded[stream].state,
                code=code,
                name=name,
                currency=currency,
                allow_backorders=allow_backorders,
                reservation_ttl_minutes=reservation_ttl_minutes,
            )
            return Outcome({stream: list(events)}, lambda after: after[stream])

        return self.executor.execute(ctx, {stream: STORE}, decide)

    def assign_store_locations(
        self, ctx: CommandContext, *, code: str, locations: Sequence[str]
    ) -> Loaded[Store]:
        """The locations that fulfil a store (and that callers scoped to it see)."""
        stream = store_stream_id(ctx.tenant_id, code)
        known = [location.code for location in self.catalog.locations(ctx.tenant_id)]

        def decide(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Store]]:
            events = assign_locations(
                loaded[stream].state, code=code, locations=locations, known=known
            )
            return Outcome({stream: list(events)}, lambda after: after[stream])

        return self.executor.execute(ctx, {stream: STORE}, decide)

    def define_product(
        self,
        ctx: CommandContext,
        *,
        sku: str,
        name: str,
        weight_grams: int,
        dimensions: Dimensions,
        prices: dict[str, Money],
        unit_cost: Money | None,
    ) -> Loaded[Product]:
        stores = {store.code: store for store in self.catalog.stores(ctx.tenant_id)}
        for code, price in prices.items():
            if code not in stores:
                raise InvalidCommand(f"price for unknown store {code!r}", field="prices")
            if stores[code].currency != price.currency:
                raise InvalidCommand(
                    f"store {code!r} sells in {stores[code].currency}, not {price.currency}",
                    field="prices",
                )
        stream = product_stream_id(ctx.tenant_id, sku)

        def decide(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Product]]:
            events = define_product(
                loaded[stream].state,
                sku=sku,
                name=name,
                weight_grams=weight_grams,
                dimensions=dimensions,
                prices=prices,
                unit_cost=unit_cost,
            )
            return Outcome({stream: list(events)}, lambda after: after[stream])

        return self.executor.execute(ctx, {stream: PRODUCT}, decide)
