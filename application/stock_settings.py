"""Per SKU x location settings of the stock ledger: bin (slot), reorder point, safety stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from application.context import CommandContext
from application.errors import UnknownLocation, UnknownProduct
from application.executor import Executor, Outcome
from application.kinds import STOCK
from application.ports import Catalog
from application.streams import Loaded
from domain.shared.events import DomainEvent
from domain.shared.ids import stock_stream_id
from domain.stock import decide
from domain.stock.state import Stock


class StockSettingsCommands:
    def __init__(self, executor: Executor, catalog: Catalog) -> None:
        self.executor = executor
        self.catalog = catalog

    def configure(
        self,
        ctx: CommandContext,
        *,
        location: str,
        sku: str,
        bin: str | None = None,
        reorder_point: int | None = None,
        safety_stock: int | None = None,
    ) -> Loaded[Stock]:
        """Sets whichever of bin, reorder point and safety stock are given; the rest stay."""
        if location not in {loc.code for loc in self.catalog.locations(ctx.tenant_id)}:
            raise UnknownLocation(f"unknown location {location!r}", field="location")
        if self.catalog.product(ctx.tenant_id, sku) is None:
            raise UnknownProduct(f"unknown SKU {sku!r}", field="sku")
        stream = stock_stream_id(ctx.tenant_id, sku, location)

        def decide_settings(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Stock]]:
            state: Stock = loaded[stream].state
            events: list[DomainEvent] = []
            if bin is not None:
                events += decide.slot(state, sku=sku, location=location, bin=bin)
            if reorder_point is not None or safety_stock is not None:
                policy = decide.set_policy(
                    state,
                    sku=sku,
                    location=location,
                    reorder_point=state.reorder_point if reorder_point is None else reorder_point,
                    safety_stock=state.safety_stock if safety_stock is None else safety_stock,
                )
                events += policy
            return Outcome({stream: events}, lambda after: after[stream])

        return self.executor.execute(ctx, {stream: STOCK}, decide_settings)
