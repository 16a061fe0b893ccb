"""Use cases for customers: identify them when they order, erase them on request (ADR 0035)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from application.context import CommandContext
from application.executor import Executor, Outcome
from application.streams import Kind, Loaded, Streams
from domain.customer import model
from domain.customer.model import CustomerNotFound

CUSTOMER = Kind("customer", model.Customer(), model.evolve, model.Customer)


class CustomerDirectory(Protocol):
    def identify(self, tenant_id: UUID, email: str) -> UUID:
        """The customer with this email (not erased), made on first sight with a new key."""
        ...

    def find(self, tenant_id: UUID, email: str) -> UUID | None: ...

    def known(self, tenant_id: UUID, customer_id: UUID) -> bool: ...

    def shred(self, tenant_id: UUID, customer_id: UUID) -> None:
        """Deletes the customer's data key and email digest, for good."""
        ...


class CustomerCommands:
    def __init__(self, executor: Executor, streams: Streams, directory: CustomerDirectory) -> None:
        self.executor = executor
        self.streams = streams
        self.directory = directory

    def erase(self, ctx: CommandContext, customer_id: UUID) -> Loaded[model.Customer]:
        """Shreds the key first, then records the erasure: if recording fails, a retry finds
        the key gone and records it; the other order could leave an erasure on record whose
        data still opens."""
        if not self.directory.known(ctx.tenant_id, customer_id):
            raise CustomerNotFound(f"no customer {customer_id}")
        self.directory.shred(ctx.tenant_id, customer_id)
        command = model.EraseCustomer(customer_id=customer_id, now=datetime.now(UTC))

        def decide(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[model.Customer]]:
            events = model.erase(loaded[customer_id].state, command)
            return Outcome({customer_id: list(events)}, lambda after: after[customer_id])

        erased = self.executor.execute(ctx, {customer_id: CUSTOMER}, decide)
        self.streams.forget_all()
        return erased
