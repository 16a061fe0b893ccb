"""Who is asking, on whose behalf, and how to answer a retry of the same request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.ports import Metadata


class Idempotency(msgspec.Struct, frozen=True):
    key: str
    request_hash: str
    render: Callable[[Any], tuple[int, bytes, int | None]]


class CommandContext(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    actor: str
    correlation_id: UUID = msgspec.field(default_factory=uuid4)
    command_id: UUID = msgspec.field(default_factory=uuid4)
    request_id: str | None = None
    idempotency: Idempotency | None = None

    def metadata(self, now: datetime | None = None) -> Metadata:
        return Metadata(
            tenant_id=self.tenant_id,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.command_id,
            request_id=self.request_id,
            recorded_at=now or datetime.now(UTC),
        )
