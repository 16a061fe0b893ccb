"""Use cases for the stock ledger: receipts, adjustments (cycle counts), transfers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.context import CommandContext
from application.errors import UnknownLocation, UnknownProduct
from application.executor import Executor, Outcome
from application.kinds import STOCK
from application.ports import Catalog
from application.streams import Loaded
from domain.shared.errors import InvalidCommand
from domain.shared.events import DomainEvent
from domain.shared.ids import stock_stream_id
from domain.shared.money import Money
from domain.stock import decide
from domain.stock.state import Stock, fold


class ReceiptLine(msgspec.Struct, frozen=True):
    sku: str
    quantity: int
    unit_cost: Money | None = None


class StockCommands:
    def __init__(self, executor: Executor, catalog: Catalog) -> None:
        self.executor = executor
        self.catalog = catalog

    def _check(self, tenant_id: UUID, locations: Sequence[str], skus: Sequence[str]) -> None:
        known = {location.code for location in self.catalog.locations(tenant_id)}
        for code in locations:
            if code not in known:
                raise UnknownLocation(f"unknown location {code!r}", field="location")
        for sku in skus:
            if self.catalog.product(tenant_id, sku) is None:
                raise UnknownProduct(f"unknown SKU {sku!r}", field="sku")

    def receive(
        self,
        ctx: CommandContext,
        *,
        location: str,
        lines: Sequence[ReceiptLine],
        reference: str | None = None,
    ) -> list[Loaded[Stock]]:
        if not lines:
            raise InvalidCommand("a receipt needs at least one line", field="lines")
        self._check(ctx.tenant_id, [location], [line.sku for line in lines])
        ids = [stock_stream_id(ctx.tenant_id, line.sku, location) for line in lines]

        def decide_receipt(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[list[Loaded[Stock]]]:
            events: dict[UUID, list[DomainEvent]] = {}
            states = {stream_id: loaded[stream_id].state for stream_id in ids}
            for stream_id, line in zip(ids, lines, strict=True):
                new = decide.receive(
                    states[stream_id],
                    sku=line.sku,
                    location=location,
                    quantity=line.quantity,
                    unit_cost=line.unit_cost,
                    reference=reference,
                )
                states[stream_id] = fold(list(new), states[stream_id])
                events.setdefault(stream_id, []).extend(new)
            return Outcome(events, lambda after: [after[i] for i in dict.fromkeys(ids)])

        return self.executor.execute(ctx, dict.fromkeys(ids, STOCK), decide_receipt)

    def adjust(
        self,
        ctx: CommandContext,
        *,
        location: str,
        sku: str,
        reason: str,
        counted: int | None = None,
        delta: int | None = None,
    ) -> Loaded[Stock]:
        self._check(ctx.tenant_id, [location], [sku])
        stream = stock_stream_id(ctx.tenant_id, sku, location)

        def decide_adjustment(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Stock]]:
            events = decide.adjust(
                loaded[stream].state,
                sku=sku,
                location=location,
                reason=reason,
                counted=counted,
                delta=delta,
            )
            return Outcome({stream: list(events)}, lambda after: after[stream])

        return self.executor.execute(ctx, {stream: STOCK}, decide_adjustment)

    def transfer(
        self,
        ctx: CommandContext,
        *,
        sku: str,
        from_location: str,
        to_location: str,
        quantity: int,
    ) -> tuple[Loaded[Stock], Loaded[Stock]]:
        self._check(ctx.tenant_id, [from_location, to_location], [sku])
        source = stock_stream_id(ctx.tenant_id, sku, from_location)
        target = stock_stream_id(ctx.tenant_id, sku, to_location)
        transfer_id = uuid4()

        def decide_transfer(
            loaded: Mapping[UUID, Loaded[Any]],
        ) -> Outcome[tuple[Loaded[Stock], Loaded[Stock]]]:
            out, into = decide.transfer(
                loaded[source].state,
                sku=sku,
                from_location=from_location,
                to_location=to_location,
                quantity=quantity,
                transfer_id=transfer_id,
            )
            return Outcome(
                {source: list(out), target: list(into)},
                lambda after: (after[source], after[target]),
            )

        return self.executor.execute(ctx, {source: STOCK, target: STOCK}, decide_transfer)
