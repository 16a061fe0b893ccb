"""Liveness and readiness."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

import msgspec
from litestar import Controller, Response, get

from adapters.cache import RedisCache
from application.access import Permission
from interfaces.bootstrap import Container
from projections.runner import ProjectionStatus, all_statuses


class Check(msgspec.Struct):
    name: str
    ok: bool
    detail: str


class Readiness(msgspec.Struct):
    ready: bool
    checks: list[Check]
    projections: list[ProjectionStatus]


def _tcp(name: str, url: str, default_port: int) -> Check:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return Check(name, True, "reachable")
    except OSError as error:
        return Check(name, False, f"unreachable: {error}")


class HealthController(Controller):
    path = ""
    tags = ["health"]

    @get("/health", sync_to_thread=False, permission=Permission.PUBLIC)
    def health(self) -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @get("/ready", sync_to_thread=True, permission=Permission.PUBLIC)
    def ready(self, container: Container) -> Response[Any]:
        """Readiness: servers reachable, and how far each projection, the NATS relay and the
        webhook fan-out lag behind the store (events and seconds)."""
        checks: list[Check] = []
        try:
            with container.datastore.transaction() as curs:
                curs.execute("SELECT 1")
            checks.append(Check("postgres", True, "reachable"))
        except Exception as error:
            checks.append(Check("postgres", False, f"unreachable: {error}"))
        settings = container.settings
        if settings.nats_url:
            checks.append(_tcp("nats", settings.nats_url, 4222))
        if settings.redis_url and isinstance(container.cache, RedisCache):
            try:
                checks.append(Check("redis", container.cache.ping(), "reachable"))
            except Exception as error:
                checks.append(Check("redis", False, f"unreachable: {error}"))
        if settings.clickhouse_url and settings.clickhouse_url.startswith("http"):
            checks.append(_tcp("clickhouse", settings.clickhouse_url, 8123))
        projections = all_statuses(container.datastore) if checks[0].ok else []
        ready = all(check.ok for check in checks)
        return Response(Readiness(ready, checks, projections), status_code=200 if ready else 503)
