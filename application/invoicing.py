"""The invoicing process manager: tails the event store and issues invoices.

A shipment that ships is invoiced when its store invoices on shipment (the default); an order is
invoiced as it is placed when its store invoices on order. Invoice ids are derived from the
shipment (or order), so handling an event twice issues nothing twice; the position is stored
after each event, so a restart resumes where it stopped. A refusal (say, a shipment of more than
is left to invoice) is logged and skipped: the reconciliation report shows it. A concurrency
conflict is no refusal: it propagates, the position stays before the event, and the event is
handled again on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import structlog

from application.billing import BillingConfig, InvoiceOn
from application.context import CommandContext
from application.executor import Conflict
from application.invoices import InvoiceCommands
from application.ports import Recorded
from domain.order.events import OrderPlaced
from domain.shared.errors import DomainError
from domain.shipment.events import ShipmentShipped

log = structlog.get_logger("kontor.invoicing")


class EventFeed(Protocol):
    """Events in commit order after a position, and a named reader's stored position."""

    def read(self, after: int, topics: Sequence[str], limit: int) -> list[tuple[int, Recorded]]: ...

    def position(self, reader: str) -> int: ...

    def save_position(self, reader: str, position: int) -> None: ...


class InvoicingProcess:
    name = "invoicing"
    topics = (ShipmentShipped.topic(), OrderPlaced.topic())

    def __init__(self, feed: EventFeed, invoices: InvoiceCommands, config: BillingConfig) -> None:
        self.feed = feed
        self.invoices = invoices
        self.config = config

    def run_once(self, limit: int = 200) -> int:
        """Handles up to `limit` new events; returns how many there were."""
        position = self.feed.position(self.name)
        batch = self.feed.read(position, self.topics, limit)
        for at, recorded in batch:
            self.handle(recorded)
            self.feed.save_position(self.name, at)
        return len(batch)

    def handle(self, recorded: Recorded) -> None:
        event = recorded.event
        meta = recorded.metadata
        ctx = CommandContext(
            tenant_id=meta.tenant_id,
            actor="system:invoicing",
            correlation_id=meta.correlation_id,
        )
        try:
            if isinstance(event, ShipmentShipped):
                policy = self.config.store_policy(meta.tenant_id, event.store)
                if policy.invoice_on is InvoiceOn.SHIPMENT:
                    quantities: dict[int, int] = {}
                    for line in event.lines:
                        quantities[line.line_no] = quantities.get(line.line_no, 0) + line.quantity
                    self.invoices.issue(
                        ctx,
                        event.order_id,
                        shipment_id=event.shipment_id,
                        quantities=quantities,
                        now=event.shipped_at,
                    )
            elif isinstance(event, OrderPlaced):
                policy = self.config.store_policy(meta.tenant_id, event.store)
                if policy.invoice_on is InvoiceOn.ORDER:
                    self.invoices.issue(ctx, event.order_id, now=event.placed_at)
        except Conflict:
            raise
        except DomainError as refused:
            log.warning(
                "not invoiced",
                topic=type(event).topic(),
                stream=str(recorded.originator_id),
                code=refused.code,
                detail=refused.detail,
            )
