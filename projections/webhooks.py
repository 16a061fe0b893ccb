"""The webhook deliverer (ADR 0023).

Fan-out follows the global order: each page of events becomes delivery rows for the tenant's
matching endpoints, in one transaction with the fan-out position, so every event is queued
exactly once per endpoint. Sending takes due deliveries (leased, so several deliverers never
send the same one at once), POSTs them with Standard Webhooks signatures and bounded timeouts,
and logs every attempt. 2xx succeeds; 5xx, timeouts and connection errors retry with
exponential backoff up to `max_attempts`; anything else (4xx, redirects, a forbidden target)
fails at once. Delivery is at least once: a crash between the POST and its log resends it with
the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import httpx
import msgspec
import psycopg
import structlog
from psycopg.rows import dict_row

from adapters.keyring import Keyring, KeyringError
from adapters.postgres.mapper import opened_data
from adapters.postgres.webhooks import endpoint_secret_context
from adapters.webhooks.guard import ForbiddenTarget, Guard
from adapters.webhooks.signing import headers as signed_headers
from domain.shared.ids import event_id

log = structlog.get_logger("kontor.webhooks")

POSITION_NAME = "webhooks"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    database_url: str
    keyring: Keyring
    guard: Guard = field(default_factory=Guard)
    page: int = 500
    batch: int = 32
    connect_timeout: float = 3.0
    timeout: float = 10.0
    backoff: float = 5.0  # seconds before the first retry; doubles each time
    max_backoff: float = 3_600.0
    max_attempts: int = 8
    lease: float = 60.0


class _Meta(msgspec.Struct, frozen=True):
    tenant_id: UUID
    recorded_at: str


class _Stored(msgspec.Struct, frozen=True):
    v: int
    meta: _Meta
    data: msgspec.Raw


_decode = msgspec.json.Decoder(_Stored).decode


class Payload(msgspec.Struct, frozen=True):
    """The body of every delivery (Standard Webhooks shape: type, timestamp, data)."""

    type: str
    timestamp: str
    id: UUID
    tenant_id: UUID
    stream_id: UUID
    version: int
    position: int
    schema_version: int
    data: msgspec.Raw


def matches(event_types: list[str], topic: str) -> bool:
    """An empty list or `*` takes everything; `order.*` every event of an aggregate."""
    if not event_types:
        return True
    aggregate = topic.split(".", 1)[0]
    return any(t in ("*", topic, f"{aggregate}.*") for t in event_types)


class Deliverer:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._run(stop)
            except (OSError, psycopg.Error) as error:
                log.warning("webhook deliverer interrupted; retrying", error=str(error))
            except Exception:  # a worker thread must not die silently: log, wait, start over
                log.exception("webhook deliverer failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def _run(self, stop: asyncio.Event) -> None:
        url = self.config.database_url
        listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
        db = await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)
        timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
        try:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
                await listener.execute("LISTEN kontor_events")
                while not stop.is_set():
                    queued = await self.fan_out(db)
                    sent = await self.send_due(db, client)
                    if not queued and not sent:
                        async for _ in listener.notifies(timeout=0.2, stop_after=1):
                            break
        finally:
            await listener.close()
            await db.close()

    async def fan_out(self, db: psycopg.AsyncConnection[Any]) -> int:
        """Queues deliveries for the next page of events; returns how many events it read."""
        async with db.transaction():
            row = await (
                await db.execute(
                    "SELECT position FROM relay_positions WHERE name = %s FOR UPDATE",
                    (POSITION_NAME,),
                )
            ).fetchone()
            position = row["position"] if row else 0
            events = await (
                await db.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM kontor_events WHERE notification_id > %s "
                    "ORDER BY notification_id LIMIT %s",
                    (position, self.config.page),
                )
            ).fetchall()
            if not events:
                return 0
            tenants = {}
            for e in events:
                tenants[e["notification_id"]] = _decode(bytes(e["state"])).meta.tenant_id
            endpoints = await (
                await db.execute(
                    "SELECT id, tenant_id, event_types, after_position FROM webhook_endpoints "
                    "WHERE deleted_at IS NULL AND tenant_id = ANY(%s)",
                    (list(set(tenants.values())),),
                )
            ).fetchall()
            rows = [
                (
                    uuid4(),
                    ep["tenant_id"],
                    ep["id"],
                    event_id(e["originator_id"], e["originator_version"]),
                    e["notification_id"],
                    e["topic"],
                )
                for e in events
                for ep in endpoints
                if ep["tenant_id"] == tenants[e["notification_id"]]
                and e["notification_id"] > ep["after_position"]
                and matches(ep["event_types"], e["topic"])
            ]
            if rows:
                async with db.cursor() as curs:
                    await curs.executemany(
                        "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, "
                        "position, event_type, status, next_attempt_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, 'pending', now()) "
                        "ON CONFLICT (endpoint_id, event_id) DO NOTHING",
                        rows,
                    )
            await db.execute(
                "INSERT INTO relay_positions (name, position) VALUES (%s, %s) ON CONFLICT (name) "
                "DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
                (POSITION_NAME, events[-1]["notification_id"]),
            )
        return len(events)

    async def send_due(self, db: psycopg.AsyncConnection[Any], client: httpx.AsyncClient) -> int:
        due = await (
            await db.execute(
                "UPDATE webhook_deliveries d SET next_attempt_at = now() + %s * interval '1 s' "
                "FROM webhook_endpoints e, kontor_events k "
                "WHERE d.id IN (SELECT id FROM webhook_deliveries "
                "  WHERE status IN ('pending', 'retrying') AND next_attempt_at <= now() "
                "  ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED) "
                "AND e.id = d.endpoint_id AND k.notification_id = d.position "
                "RETURNING d.id, d.event_id, d.attempts, e.url, e.secrets, e.tenant_id, "
                "k.notification_id, k.originator_id, k.originator_version, k.topic, k.state",
                (self.config.lease, self.config.batch),
            )
        ).fetchall()
        if due:
            outcomes = await asyncio.gather(*(self._send(client, d) for d in due))
            for delivery, outcome in zip(due, outcomes, strict=True):
                await self._record(db, delivery, *outcome)
        return len(due)

    async def _send(
        self, client: httpx.AsyncClient, delivery: dict[str, Any]
    ) -> tuple[int | None, str | None, int]:
        """(status code, error, milliseconds) of one POST."""
        stored = _decode(bytes(delivery["state"]))
        data = await asyncio.to_thread(
            opened_data, delivery["topic"], bytes(stored.data), stored.meta.tenant_id
        )
        body = msgspec.json.encode(
            Payload(
                type=delivery["topic"],
                timestamp=stored.meta.recorded_at,
                id=delivery["event_id"],
                tenant_id=stored.meta.tenant_id,
                stream_id=delivery["originator_id"],
                version=delivery["originator_version"],
                position=delivery["notification_id"],
                schema_version=stored.v,
                data=msgspec.Raw(data),
            )
        )
        started = time.monotonic()
        try:
            await asyncio.to_thread(self.config.guard.check_target, delivery["url"])
            context = endpoint_secret_context(delivery["tenant_id"])
            keys = [self.config.keyring.decrypt(sealed, context) for sealed in delivery["secrets"]]
            headers = signed_headers(keys, str(delivery["event_id"]), int(time.time()), body)
            response = await client.post(delivery["url"], content=body, headers=headers)
            return response.status_code, None, _ms(started)
        except ForbiddenTarget as error:
            return None, f"forbidden target: {error}", _ms(started)
        except KeyringError as error:  # retried: the key may be added to KONTOR_SECRET_KEY
            return None, str(error), _ms(started)
        except httpx.TimeoutException:
            return None, "timeout", _ms(started)
        except httpx.HTTPError as error:
            return None, f"connection error: {error}", _ms(started)

    async def _record(
        self,
        db: psycopg.AsyncConnection[Any],
        delivery: dict[str, Any],
        status_code: int | None,
        error: str | None,
        duration_ms: int,
    ) -> None:
        attempt = delivery["attempts"] + 1
        retryable = (status_code is not None and status_code >= 500) or (
            status_code is None and not (error or "").startswith("forbidden")
        )
        if status_code is not None and 200 <= status_code < 300:
            status, delay = "succeeded", None
        elif retryable and attempt < self.config.max_attempts:
            status = "retrying"
            delay = min(self.config.backoff * 2 ** (attempt - 1), self.config.max_backoff)
        else:
            status, delay = "failed", None
        async with db.transaction():
            await db.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, "
                "duration_ms) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (delivery["id"], attempt, status_code, error, duration_ms),
            )
            await db.execute(
                "UPDATE webhook_deliveries SET status = %s, attempts = %s, last_status_code = %s, "
                "last_error = %s, updated_at = now(), next_attempt_at = CASE WHEN %s::float8 IS "
                "NULL THEN NULL ELSE now() + %s * interval '1 s' END WHERE id = %s",
                (status, attempt, status_code, error, delay, delay, delivery["id"]),
            )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
