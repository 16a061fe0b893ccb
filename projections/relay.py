"""The relay: every committed event, in global order, to NATS JetStream, exactly once (ADR 0021).

It reads `kontor_events` after its stored position, publishes a page with many acks in flight,
and stores the new position only once JetStream has acknowledged the whole page. Killed at any
point, it republishes at most that page, and JetStream drops the repeats by `Nats-Msg-Id` (the
event id). On start it also reads the position of the last message in the stream, so a restart
later than the dedup window does not repeat the page either. If that position, or its stored
one, lies beyond the last event in the store, the database was restored from a backup older
than what was relayed: it refuses to publish, and says what to do (ADR 0047).

Subject: `<prefix>.<tenant id>.<aggregate>.<EventName>` (prefix `kontor`); payload: the event's
fields as JSON; metadata in headers (see `headers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import nats
import psycopg
import structlog
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from psycopg.rows import dict_row

from adapters.postgres.mapper import opened_data

log = structlog.get_logger("kontor.relay")

HEADER_POSITION = "Kontor-Position"


@dataclass(frozen=True, slots=True)
class RelayConfig:
    database_url: str
    nats_url: str
    stream: str = "KONTOR"
    prefix: str = "kontor"
    name: str = "nats"  # the row in relay_positions
    page: int = 2_000
    ack_timeout: float = 5.0
    dedup_window: float = 15 * 60.0


class _Meta(msgspec.Struct, frozen=True):
    """The metadata as the text the headers carry: nothing to parse and print again."""

    tenant_id: str
    correlation_id: str
    recorded_at: str
    causation_id: str | None = None


class _Envelope(msgspec.Struct, frozen=True):
    v: int
    meta: _Meta
    data: msgspec.Raw


_decode = msgspec.json.Decoder(_Envelope).decode


class Message(msgspec.Struct, frozen=True):
    subject: str
    payload: bytes
    headers: dict[str, str]


def message(prefix: str, row: dict[str, Any]) -> Message:
    """The JetStream message for one stored event row.

    Headers carry what a consumer needs to order, deduplicate and trace the event; the tenant
    and the event type are in the subject, who did it is in the audit API. nats-py encodes
    headers one by one in Python, so each one costs throughput (ADR 0021).
    """
    envelope = _decode(row["state"])
    meta = envelope.meta
    stream_id: UUID = row["originator_id"]
    version: int = row["originator_version"]
    headers = {
        "Nats-Msg-Id": event_id_text(stream_id, version),
        "Kontor-Stream-Id": str(stream_id),
        "Kontor-Version": str(version),
        HEADER_POSITION: str(row["notification_id"]),
        "Kontor-Schema-Version": str(envelope.v),
        "Kontor-Recorded-At": meta.recorded_at,
        "Kontor-Correlation-Id": meta.correlation_id,
    }
    if meta.causation_id is not None:
        headers["Kontor-Causation-Id"] = meta.causation_id
    if row["hash"] is not None:
        headers["Kontor-Hash"] = row["hash"].hex()
    payload = opened_data(row["topic"], bytes(envelope.data), UUID(meta.tenant_id))
    return Message(f"{prefix}.{meta.tenant_id}.{row['topic']}", payload, headers)


def event_id_text(stream_id: UUID, version: int) -> str:
    """`str(domain.shared.ids.event_id(stream_id, version))` without building a UUID object:
    the same uuid5 (SHA-1 of namespace and name, version and variant bits set), 4x cheaper."""
    digest = bytearray(hashlib.sha1(stream_id.bytes + str(version).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


SELECT_PAGE = (
    "SELECT notification_id, originator_id, originator_version, topic, state, hash "
    "FROM kontor_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
)


class PositionAheadOfStore(RuntimeError):
    """The relay has published positions the event store does not hold."""


def restore_advice(config: RelayConfig, relayed: int, end: int) -> str:
    return (
        f"the relay {config.name!r} has published up to position {relayed}, but the event store "
        f"ends at {end}: the database was restored from a backup older than the JetStream "
        f"stream {config.stream!r}. New events would take positions {end + 1}..{relayed} again "
        "and be skipped (and JetStream would drop the ones whose event ids it still remembers)."
        " Nothing is published until you decide: replay the store to integrators by purging the"
        f" stream (`nats stream purge {config.stream}`) and `DELETE FROM relay_positions WHERE "
        f"name = '{config.name}'`, or restore the stream from a backup no newer than the database"
    )


class Relay:
    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self.published = 0
        self.position = 0
        self.waiting = False  # for another relay with the same position name to stop

    async def ensure_stream(self, js: JetStreamContext) -> None:
        """Creates the stream, or sets the subjects and dedup window of an existing one (and
        nothing else an operator may have configured)."""
        subjects = [f"{self.config.prefix}.>"]
        try:
            current = (await js.stream_info(self.config.stream)).config
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self.config.stream,
                    subjects=subjects,
                    duplicate_window=self.config.dedup_window,
                )
            )
            return
        if current.subjects != subjects or current.duplicate_window != self.config.dedup_window:
            current.subjects = subjects
            current.duplicate_window = self.config.dedup_window
            await js.update_stream(current)

    async def last_published(self, js: JetStreamContext) -> int:
        """The position in the newest message of the stream (0 if empty)."""
        info = await js.stream_info(self.config.stream)
        if not info.state.messages:
            return 0
        last = await js.get_msg(self.config.stream, seq=info.state.last_seq)
        return int((last.headers or {}).get(HEADER_POSITION, 0))

    async def run(self, stop: asyncio.Event, on_page: Callable[[int], None] | None = None) -> None:
        """Relays until `stop` is set; waits out NATS or PostgreSQL outages."""
        while not stop.is_set():
            try:
                await self._run(stop, on_page)
            except PositionAheadOfStore as error:
                log.error("relay refuses to publish", reason=str(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 30.0)
            except (OSError, psycopg.Error, nats.errors.Error) as error:
                log.warning("relay interrupted; retrying", error=str(error))
            except Exception:  # a worker thread must not die silently: log, wait, start over
                log.exception("relay failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def _run(self, stop: asyncio.Event, on_page: Callable[[int], None] | None) -> None:
        async with contextlib.AsyncExitStack() as stack:
            url = self.config.database_url
            db = await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)
            stack.push_async_callback(db.close)
            if not await self._lead(db):
                log.info(
                    "another relay is running for this position; waiting", name=self.config.name
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5.0)
                return
            listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
            stack.push_async_callback(listener.close)
            nc = await nats.connect(
                self.config.nats_url,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.25,
                connect_timeout=2,
            )
            stack.push_async_callback(_close_quietly, nc)
            js = nc.jetstream(publish_async_max_pending=self.config.page)
            await self.ensure_stream(js)
            await listener.execute("LISTEN kontor_events")
            self.position = max(await self._stored(db), await self.last_published(js))
            end = await self._end(db)
            if self.position > end:
                raise PositionAheadOfStore(restore_advice(self.config, self.position, end))
            log.info("relay started", position=self.position, stream=self.config.stream)
            rows = await self._page(db, self.position)
            while not stop.is_set():
                if not rows:
                    await self._wait(listener)
                    rows = await self._page(db, self.position)
                    continue
                acks = await self._send(js, rows)
                last = rows[-1]["notification_id"]
                # Read the next page while JetStream acknowledges this one.
                following = asyncio.create_task(self._page(db, last))
                try:
                    await self._acknowledged(acks)
                except BaseException:
                    following.cancel()
                    raise
                self.position = last
                await self._store(db, last)
                self.published += len(rows)
                if on_page is not None:
                    on_page(last)
                rows = await following

    async def _lead(self, db: psycopg.AsyncConnection[Any]) -> bool:
        """Takes the relay's session lock: one relay per position at a time. A killed relay's
        lock goes with its connection."""
        cursor = await db.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS mine",
            (f"kontor-relay:{self.config.name}",),
        )
        row = await cursor.fetchone()
        return bool(row and row["mine"])

    async def _page(self, db: psycopg.AsyncConnection[Any], after: int) -> list[dict[str, Any]]:
        cursor = await db.execute(SELECT_PAGE, (after, self.config.page), binary=True)
        return await cursor.fetchall()

    async def _send(
        self, js: JetStreamContext, rows: list[dict[str, Any]]
    ) -> list[asyncio.Future[Any]]:
        """Publishes a page without waiting: one ack future per message."""
        prefix = self.config.prefix
        acks = []
        for row in rows:
            m = message(prefix, row)
            acks.append(await js.publish_async(m.subject, m.payload, headers=m.headers))
        return acks

    async def _acknowledged(self, acks: list[asyncio.Future[Any]]) -> None:
        try:
            await asyncio.wait_for(asyncio.gather(*acks), self.config.ack_timeout)
        except TimeoutError:
            for ack in acks:
                ack.cancel()
            raise nats.errors.TimeoutError from None

    async def _wait(self, listener: psycopg.AsyncConnection[Any]) -> None:
        """Until an append is notified (or a second passes: a NOTIFY may be missed on
        reconnect)."""
        async for _ in listener.notifies(timeout=1.0, stop_after=1):
            break

    async def _end(self, db: psycopg.AsyncConnection[Any]) -> int:
        cursor = await db.execute(
            "SELECT coalesce(max(notification_id), 0) AS n FROM kontor_events"
        )
        row = await cursor.fetchone()
        return int(row["n"]) if row else 0

    async def _stored(self, db: psycopg.AsyncConnection[Any]) -> int:
        row = await (
            await db.execute(
                "SELECT position FROM relay_positions WHERE name = %s", (self.config.name,)
            )
        ).fetchone()
        return int(row["position"]) if row else 0

    async def _store(self, db: psycopg.AsyncConnection[Any], position: int) -> None:
        await db.execute(
            "INSERT INTO relay_positions (name, position) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
            (self.config.name, position),
            prepare=True,
        )


async def _close_quietly(nc: nats.NATS) -> None:
    with contextlib.suppress(Exception):
        await nc.close()


def run_forever(config: RelayConfig, stop: asyncio.Event | None = None) -> None:
    asyncio.run(Relay(config).run(stop or asyncio.Event()))


def seconds_since(state: bytes | None) -> float:
    """How long ago the event in this stored envelope was recorded (0 for none)."""
    if state is None:
        return 0.0
    recorded = datetime.fromisoformat(_decode(bytes(state)).meta.recorded_at)
    return round(max(0.0, time.time() - recorded.timestamp()), 3)
