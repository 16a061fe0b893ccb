"""Webhook endpoints and their delivery log (ADR 0023): plain tables, not event streams."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from psycopg.errors import UniqueViolation

from application.context import Idempotency
from application.executor import IdempotentReplay


class Endpoint(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    event_types: list[str]
    created_at: datetime


class Attempt(msgspec.Struct, frozen=True):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class Delivery(msgspec.Struct, frozen=True):
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    position: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    log: list[Attempt] = []


ENDPOINT_COLUMNS = "id, url, event_types, created_at"
DELIVERY_COLUMNS = (
    "id, endpoint_id, event_id, event_type, position, status, attempts, next_attempt_at, "
    "last_status_code, last_error, created_at, updated_at"
)


class WebhookStore:
    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def create_endpoint(
        self,
        tenant_id: UUID,
        url: str,
        event_types: list[str],
        secret: str,
        idempotency: Idempotency | None,
        render: Callable[[Endpoint], Any] | None = None,
    ) -> Endpoint:
        """Inserts the endpoint, and the first response of an idempotent request in the same
        transaction. It receives events committed after it, not the history before."""
        try:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    "INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secrets, "
                    "after_position) SELECT %s, %s, %s, %s, %s, "
                    "coalesce(max(notification_id), 0) FROM kontor_events "
                    f"RETURNING {ENDPOINT_COLUMNS}",
                    (uuid4(), tenant_id, url, event_types, [secret]),
                )
                endpoint = msgspec.convert(curs.fetchone(), Endpoint)
                if idempotency is not None:
                    status, body, version = idempotency.render(endpoint)
                    curs.execute(
                        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, "
                        "body, version) VALUES (%s, %s, %s, %s, %s, %s)",
                        (
                            tenant_id,
                            idempotency.key,
                            idempotency.request_hash,
                            status,
                            body,
                            version,
                        ),
                    )
        except UniqueViolation:
            raise IdempotentReplay from None
        return endpoint

    def endpoints(self, tenant_id: UUID, *, after: UUID | None, limit: int) -> list[Endpoint]:
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = %s "
                "AND deleted_at IS NULL AND id > %s ORDER BY id LIMIT %s",
                (tenant_id, after or UUID(int=0), limit),
            )
            return msgspec.convert(curs.fetchall(), list[Endpoint])

    def rotate_secret(self, tenant_id: UUID, endpoint_id: UUID, secret: str) -> bool:
        """Signs with `secret` from now on, and with the previous one too until the next
        rotation, so receivers can switch keys without dropping a delivery."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE webhook_endpoints SET secrets = ARRAY[%s] || secrets[1:1] "
                "WHERE id = %s AND tenant_id = %s AND deleted_at IS NULL",
                (secret, endpoint_id, tenant_id),
            )
            return bool(curs.rowcount == 1)

    def delete_endpoint(self, tenant_id: UUID, endpoint_id: UUID) -> bool:
        """Stops deliveries to it (pending ones fail); its log stays readable."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE webhook_endpoints SET deleted_at = now() WHERE id = %s AND tenant_id = %s "
                "AND deleted_at IS NULL",
                (endpoint_id, tenant_id),
            )
            deleted: bool = curs.rowcount == 1
            curs.execute(
                "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, "
                "last_error = 'endpoint deleted', updated_at = now() "
                "WHERE endpoint_id = %s AND status IN ('pending', 'retrying')",
                (endpoint_id,),
            )
        return deleted

    def deliveries(
        self,
        tenant_id: UUID,
        *,
        endpoint_id: UUID | None,
        status: str | None,
        before: int | None,
        limit: int,
    ) -> list[tuple[int, Delivery]]:
        """Newest first, each with its attempts; paired with its cursor key."""
        where = ["tenant_id = %(tenant)s"]
        params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
        if endpoint_id is not None:
            where.append("endpoint_id = %(endpoint)s")
            params["endpoint"] = endpoint_id
        if status is not None:
            where.append("status = %(status)s")
            params["status"] = status
        if before is not None:
            where.append("seq < %(before)s")
            params["before"] = before
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT seq, {DELIVERY_COLUMNS} FROM webhook_deliveries "
                f"WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT %(limit)s",
                params,
            )
            rows = curs.fetchall()
            curs.execute(
                "SELECT delivery_id, attempt, at, status_code, error, duration_ms "
                "FROM webhook_attempts WHERE delivery_id = ANY(%s) ORDER BY attempt",
                ([row["id"] for row in rows],),
            )
            log: dict[UUID, list[dict[str, Any]]] = {}
            for attempt in curs.fetchall():
                log.setdefault(attempt.pop("delivery_id"), []).append(attempt)
        return [
            (row.pop("seq"), msgspec.convert(row | {"log": log.get(row["id"], [])}, Delivery))
            for row in rows
        ]

    def redeliver(self, tenant_id: UUID, delivery_id: UUID) -> Delivery | None:
        """Queues the delivery again, now, whatever its status; its attempts keep counting."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), "
                "updated_at = now() FROM webhook_endpoints e WHERE d.id = %s "
                "AND d.tenant_id = %s AND e.id = d.endpoint_id AND e.deleted_at IS NULL "
                f"RETURNING {', '.join('d.' + c for c in DELIVERY_COLUMNS.split(', '))}",
                (delivery_id, tenant_id),
            )
            row = curs.fetchone()
        return None if row is None else msgspec.convert(row, Delivery)

    def delivery_exists(self, tenant_id: UUID, delivery_id: UUID) -> bool:
        with self.datastore.transaction() as curs:
            curs.execute(
                "SELECT 1 FROM webhook_deliveries WHERE id = %s AND tenant_id = %s",
                (delivery_id, tenant_id),
            )
            return curs.fetchone() is not None
