"""Use cases for returns (RMAs): authorize against shipped units, receive into a location."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from application.context import CommandContext
from application.errors import UnknownLocation
from application.executor import Executor, Outcome
from application.kinds import ORDER, RETURN, STOCK
from application.ports import Catalog
from application.streams import Kind, Loaded, Streams
from domain.order.errors import OrderNotFound
from domain.returns import decide
from domain.returns.decide import ReceivedUnits, RequestedReturn, ReturnNotFound
from domain.returns.state import Return
from domain.shared.events import DomainEvent
from domain.shared.ids import stock_stream_id


class ReturnCommands:
    def __init__(
        self, executor: Executor, streams: Streams, catalog: Catalog, window: timedelta
    ) -> None:
        self.executor = executor
        self.streams = streams
        self.catalog = catalog
        self.window = window

    def get(self, tenant_id: UUID, return_id: UUID) -> Loaded[Return]:
        loaded = self.streams.load({return_id: RETURN})[return_id]
        if not loaded.owned_by(tenant_id):
            raise ReturnNotFound(f"no return {return_id}")
        return loaded

    def authorize(
        self, ctx: CommandContext, order_id: UUID, lines: Sequence[RequestedReturn]
    ) -> Loaded[Return]:
        order = self.streams.load({order_id: ORDER})[order_id]
        if not order.owned_by(ctx.tenant_id):
            raise OrderNotFound(f"no order {order_id}")
        return_id = uuid4()

        def decide_rma(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Return]]:
            order_events, return_events = decide.authorize(
                loaded[order_id].state,
                return_id=return_id,
                lines=lines,
                window=self.window,
                now=datetime.now(UTC),
            )
            events: dict[UUID, list[DomainEvent]] = {
                order_id: list(order_events),
                return_id: list(return_events),
            }
            return Outcome(events, lambda after: after[return_id])

        kinds: dict[UUID, Kind[Any]] = {order_id: ORDER, return_id: RETURN}
        return self.executor.execute(ctx, kinds, decide_rma)

    def receive(
        self,
        ctx: CommandContext,
        return_id: UUID,
        *,
        location: str,
        lines: Sequence[ReceivedUnits],
    ) -> Loaded[Return]:
        self.get(ctx.tenant_id, return_id)
        if location not in {loc.code for loc in self.catalog.locations(ctx.tenant_id)}:
            raise UnknownLocation(f"unknown location {location!r}", field="location")
        stock_ids = {
            (line.sku, location): stock_stream_id(ctx.tenant_id, line.sku, location)
            for line in lines
        }
        kinds: dict[UUID, Kind[Any]] = {return_id: RETURN}
        kinds |= dict.fromkeys(stock_ids.values(), STOCK)

        def decide_receipt(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Return]]:
            return_events, stock_events = decide.receive(
                loaded[return_id].state,
                location=location,
                lines=lines,
                stock={key: loaded[sid].state for key, sid in stock_ids.items()},
                now=datetime.now(UTC),
            )
            events: dict[UUID, list[DomainEvent]] = {return_id: list(return_events)}
            for key, items in stock_events.items():
                events[stock_ids[key]] = list(items)
            return Outcome(events, lambda after: after[return_id])

        return self.executor.execute(ctx, kinds, decide_receipt)
