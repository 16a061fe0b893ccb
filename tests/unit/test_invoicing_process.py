"""The invoicing process manager skips refusals but never a concurrency conflict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from application.billing import StorePolicy
from application.context import CommandContext
from application.executor import Conflict
from application.invoicing import InvoicingProcess
from application.ports import Recorded
from domain.invoice.errors import NotInvoiceable
from domain.shipment.events import ShipmentLine, ShipmentShipped


class Feed:
    def __init__(self, events: list[Recorded]) -> None:
        self.events = events
        self.saved = 0

    def read(self, after: int, topics: Sequence[str], limit: int) -> list[tuple[int, Recorded]]:
        return [(n, r) for n, r in enumerate(self.events, start=1) if n > after][:limit]

    def position(self, reader: str) -> int:
        return self.saved

    def save_position(self, reader: str, position: int) -> None:
        self.saved = position


class Invoices:
    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)

    def issue(self, ctx: CommandContext, order_id: Any, **kwargs: Any) -> None:
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


class Config:
    def store_policy(self, tenant_id: Any, store: str) -> StorePolicy:
        return StorePolicy()


def shipped() -> Recorded:
    event = ShipmentShipped(
        shipment_id=uuid4(),
        order_id=uuid4(),
        store="web",
        location="BER",
        lines=[ShipmentLine(1, "MUG", 1)],
        shipped_at=datetime.now(UTC),
    )
    ctx = CommandContext(tenant_id=uuid4(), actor="test")
    return Recorded(event.shipment_id, 1, event, ctx.metadata())


def process(feed: Feed, invoices: Invoices) -> InvoicingProcess:
    return InvoicingProcess(feed, invoices, Config())  # type: ignore[arg-type]


def test_a_refused_shipment_is_skipped_and_the_position_moves_on() -> None:
    feed = Feed([shipped(), shipped()])
    assert process(feed, Invoices(NotInvoiceable("too many"), None)).run_once() == 2
    assert feed.saved == 2


def test_a_conflict_keeps_the_position_so_the_event_is_handled_again() -> None:
    feed = Feed([shipped(), shipped()])
    invoices = Invoices(None, Conflict("busy"), None)
    with pytest.raises(Conflict):
        process(feed, invoices).run_once()
    assert feed.saved == 1
    assert process(feed, invoices).run_once() == 1
    assert (feed.saved, invoices.outcomes) == (2, [])
