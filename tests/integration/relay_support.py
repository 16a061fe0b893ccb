"""Helpers for the relay tests: a probe event, a writer, and reading a stream back."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

import psycopg

from adapters.nats.consumer import tail
from application.ports import Append, Metadata
from domain.shared.events import DomainEvent
from domain.shared.ids import event_id
from interfaces.bootstrap import Container


class ProbeTicked(DomainEvent, frozen=True, kw_only=True):
    """Test-only event (not in the catalog: it lives outside `domain`)."""

    aggregate: ClassVar[str] = "probe"
    n: int


class Writer:
    """Appends `ProbeTicked` events for one tenant round-robin over `streams` streams."""

    def __init__(self, container: Container, streams: int = 20) -> None:
        self.container = container
        self.tenant_id = uuid4()
        self.streams = [uuid4() for _ in range(streams)]
        self.versions: dict[UUID, int] = dict.fromkeys(self.streams, 0)

    def write(self, events: int, per_append: int = 5) -> None:
        for start in range(0, events, per_append):
            stream = self.streams[(start // per_append) % len(self.streams)]
            count = min(per_append, events - start)
            version = self.versions[stream]
            self.container.store.append(
                [Append(stream, version, [ProbeTicked(n=version + i) for i in range(count)])],
                Metadata(
                    tenant_id=self.tenant_id,
                    actor="test:relay",
                    correlation_id=uuid4(),
                    recorded_at=datetime.now(UTC),
                ),
            )
            self.versions[stream] = version + count

    @contextmanager
    def writing_in_background(self, events: int) -> Iterator[threading.Thread]:
        thread = threading.Thread(target=self.write, args=(events,))
        thread.start()
        try:
            yield thread
        finally:
            thread.join()

    def expected(self) -> set[str]:
        return {
            str(event_id(stream, version))
            for stream, last in self.versions.items()
            for version in range(1, last + 1)
        }


def last_position(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM kontor_events").fetchone()
    return int(row[0]) if row else 0


def relayed_position(database_url: str, name: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT position FROM relay_positions WHERE name = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def read_stream(nats_url: str, stream: str, prefix: str) -> list[dict[str, str]]:
    """Every message's headers (and its subject, as "subject") in stream order."""
    seen: list[dict[str, str]] = []

    def keep(message: Any) -> None:
        seen.append(dict(message.headers or {}) | {"subject": message.subject})

    asyncio.run(tail(nats_url, f"{prefix}.>", keep, stream=stream, idle_exit=1.0))
    return seen


def assert_exactly_once_in_order(headers: list[dict[str, str]], writer: Writer) -> None:
    ids = [h["Nats-Msg-Id"] for h in headers]
    assert len(ids) == len(set(ids)), "a message was published twice"
    mine = [h for h in headers if h["subject"].split(".")[1] == str(writer.tenant_id)]
    assert {h["Nats-Msg-Id"] for h in mine} == writer.expected()
    versions: dict[str, list[int]] = defaultdict(list)
    for h in mine:
        versions[h["Kontor-Stream-Id"]].append(int(h["Kontor-Version"]))
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), f"stream {stream} out of order: {seen}"
    positions = [int(h["Kontor-Position"]) for h in headers]
    assert positions == sorted(positions)
