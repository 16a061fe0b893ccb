"""Process manager: releases the stock of orders left unconfirmed past their store's TTL.

It finds candidates in the orders read model (which may lag) and lets the order decide from its
own stream whether it is due, so running it twice, or in two processes at once, expires each
order once: the second decision finds it expired and decides nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import msgspec

from application.context import CommandContext
from application.executor import Executor, Outcome
from application.kinds import ORDER, SHIPMENT, STOCK
from application.streams import Kind, Loaded, Streams
from domain.order import decide
from domain.order.state import Order
from domain.shared.events import DomainEvent
from domain.shared.ids import stock_stream_id

ACTOR = "system:reservation-expiry"


class Candidate(msgspec.Struct, frozen=True):
    tenant_id: UUID
    order_id: UUID
    ttl_minutes: int


class ExpiryCandidates(Protocol):
    def due(self, now: datetime, limit: int) -> list[Candidate]:
        """Open, unconfirmed-looking orders placed longer ago than their store's TTL."""
        ...


class ReservationExpiry:
    def __init__(self, executor: Executor, streams: Streams, candidates: ExpiryCandidates) -> None:
        self.executor = executor
        self.streams = streams
        self.candidates = candidates

    def run_once(
        self,
        now: datetime | None = None,
        *,
        limit: int = 1000,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Expires every due order; returns how many it expired (0 on a repeated run)."""
        at = now or datetime.now(UTC)
        due = self.candidates.due(at, limit)
        expired = 0
        for done, candidate in enumerate(due, start=1):
            if self.expire(candidate, at):
                expired += 1
            if progress is not None:
                progress(done, len(due))
        return expired

    def expire(self, candidate: Candidate, now: datetime) -> bool:
        order_id = candidate.order_id
        order = self.streams.load({order_id: ORDER})[order_id]
        if not order.owned_by(candidate.tenant_id):
            return False
        state: Order = order.state
        stock_ids = {
            (line.sku, location): stock_stream_id(candidate.tenant_id, line.sku, location)
            for line in state.lines.values()
            for location in line.allocations
        }
        shipments: Sequence[UUID] = [s for s, ref in state.shipments.items() if ref.unshipped]
        kinds: dict[UUID, Kind[Any]] = {order_id: ORDER}
        kinds |= dict.fromkeys(stock_ids.values(), STOCK)
        kinds |= dict.fromkeys(shipments, SHIPMENT)
        ttl = timedelta(minutes=candidate.ttl_minutes)

        def decide_expiry(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[bool]:
            decision = decide.expire(
                loaded[order_id].state,
                stock={key: loaded[sid].state for key, sid in stock_ids.items()},
                ttl=ttl,
                now=now,
            )
            events: dict[UUID, list[DomainEvent]] = {order_id: list(decision.order)}
            for key, stock_events in decision.stock.items():
                events[stock_ids[key]] = list(stock_events)
            for shipment_id, shipment_events in decision.shipments.items():
                events[shipment_id] = list(shipment_events)
            return Outcome(events, lambda _: bool(decision.order))

        ctx = CommandContext(tenant_id=candidate.tenant_id, actor=ACTOR)
        return self.executor.execute(ctx, kinds, decide_expiry)
