"""Load -> decide -> append, atomically across streams, retried on concurrency conflicts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec

from application.context import CommandContext
from application.ports import (
    Append,
    ConcurrencyConflict,
    DuplicateIdempotencyKey,
    EventStore,
    IdempotencyStore,
    IdempotentWrite,
    StoredResponse,
)
from application.streams import Kind, Loaded, StreamLocks, Streams
from domain.shared.errors import DomainError
from domain.shared.events import DomainEvent

R = TypeVar("R")


class Outcome(msgspec.Struct, Generic[R], frozen=True):
    """What a decision produced: new events per stream, and the result to answer with."""

    events: dict[UUID, list[DomainEvent]]
    result: Callable[[Mapping[UUID, Loaded[Any]]], R]


class Conflict(DomainError):
    """Gave up after repeated concurrent modifications of the same streams."""

    code = "concurrency_conflict"


class IdempotentReplay(Exception):
    """A concurrent request with the same Idempotency-Key won; answer with its response."""


class Executor:
    def __init__(
        self,
        store: EventStore,
        streams: Streams,
        idempotency: IdempotencyStore | None = None,
        *,
        attempts: int = 12,
    ) -> None:
        self.store = store
        self.streams = streams
        self.idempotency = idempotency
        self.locks = StreamLocks()
        self.attempts = attempts

    def execute(
        self,
        ctx: CommandContext,
        kinds: Mapping[UUID, Kind[Any]],
        decide: Callable[[Mapping[UUID, Loaded[Any]]], Outcome[R]],
    ) -> R:
        ids = list(kinds)
        with self.locks.hold(ids):
            for attempt in range(self.attempts):
                loaded = self.streams.load(kinds)
                outcome = decide(loaded)
                if not any(outcome.events.values()):
                    result = outcome.result(loaded)
                    self._remember_without_events(ctx, result)
                    return result
                after = dict(loaded)
                appends = []
                for stream_id, decided in outcome.events.items():
                    if decided:
                        before = loaded[stream_id]
                        follow_up = kinds[stream_id].follow_up
                        events = follow_up(before.state, decided) if follow_up else decided
                        after[stream_id] = Streams.advance(
                            kinds[stream_id], before, events, ctx.tenant_id
                        )
                        appends.append(
                            Append(stream_id, before.version, events, after[stream_id].state)
                        )
                result = outcome.result(after)
                try:
                    self.store.append(
                        appends, ctx.metadata(), idempotent=self._idempotent(ctx, result)
                    )
                except ConcurrencyConflict:
                    self.streams.forget(ids)
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                except DuplicateIdempotencyKey as error:
                    raise IdempotentReplay(str(error)) from error
                self.streams.saved(kinds, loaded, after)
                return result
        raise Conflict(
            f"the records changed concurrently {self.attempts} times in a row; retry the request"
        )

    def _remember_without_events(self, ctx: CommandContext, result: object) -> None:
        """A command that changed nothing still owes its retries the same answer; with events,
        the response is stored in their transaction instead."""
        write = self._idempotent(ctx, result)
        if write is not None and self.idempotency is not None:
            self.idempotency.remember(write)

    @staticmethod
    def _idempotent(ctx: CommandContext, result: object) -> IdempotentWrite | None:
        if ctx.idempotency is None:
            return None
        status, body, version = ctx.idempotency.render(result)
        return IdempotentWrite(
            ctx.tenant_id,
            ctx.idempotency.key,
            StoredResponse(ctx.idempotency.request_hash, status, body, version),
        )
