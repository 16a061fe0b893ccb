"""Return state and evolve."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from uuid import UUID

import msgspec

from domain.returns.events import (
    ReceivedLine,
    ReturnAuthorized,
    ReturnEvent,
    ReturnLine,
    ReturnReceived,
)


class Return(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID | None = None
    order_id: UUID | None = None
    store: str = ""
    lines: list[ReturnLine] = msgspec.field(default_factory=list)
    received: list[ReceivedLine] = msgspec.field(default_factory=list)
    authorized_at: datetime | None = None
    received_at: datetime | None = None
    location: str | None = None

    @property
    def exists(self) -> bool:
        return self.id is not None

    @property
    def status(self) -> str:
        return "received" if self.received_at else "authorized"

    def expected(self) -> dict[str, int]:
        per_sku: dict[str, int] = {}
        for line in self.lines:
            per_sku[line.sku] = per_sku.get(line.sku, 0) + line.quantity
        return per_sku


@singledispatch
def evolve(event: ReturnEvent, state: Return) -> Return:
    raise TypeError(f"return cannot apply {type(event).__name__}")


@evolve.register
def _(event: ReturnAuthorized, state: Return) -> Return:
    return Return(
        id=event.return_id,
        order_id=event.order_id,
        store=event.store,
        lines=list(event.lines),
        authorized_at=event.authorized_at,
    )


@evolve.register
def _(event: ReturnReceived, state: Return) -> Return:
    return msgspec.structs.replace(
        state, received=list(event.lines), received_at=event.received_at, location=event.location
    )


def fold(events: list[ReturnEvent], state: Return | None = None) -> Return:
    current = state or Return()
    for event in events:
        current = evolve(event, current)
    return current
