"""`kontor serve`: embedded servers (where unset), migrations, demo tenant, projectors, API."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.embedded.services import EmbeddedServices
from interfaces.config import Settings

if TYPE_CHECKING:
    from interfaces.demo import DemoTenant

APP_FACTORY = "interfaces.http.app:create_app_from_env"
DEMO_HISTORY = 1_500
"""Demo orders over the last 400 days: Home compares today with yesterday, last week and last
year, and the analytics and forecast need a past (about 50 s on the first run)."""
DEMO_ORDERS_NOW = 60
"""Placed at start-up: open work for the fulfilment and finance pages."""


def export_environment(settings: Settings) -> None:
    """Worker processes rebuild their settings from the environment: hand them the resolved URLs."""
    values = {
        "KONTOR_DATABASE_URL": settings.database_url,
        "KONTOR_CLICKHOUSE_URL": settings.clickhouse_url,
        "KONTOR_NATS_URL": settings.nats_url,
        "KONTOR_REDIS_URL": settings.redis_url,
        "KONTOR_DATA_DIR": str(settings.data_dir),
        "KONTOR_HOST": settings.host,
        "KONTOR_PORT": str(settings.port),
    }
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def banner(settings: Settings, demo: DemoTenant | None) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"Kontor API   {base}",
        f"API docs     {base}/schema",
        f"Dashboard    {base}/dashboard",
    ]
    if demo is not None:
        lines += [
            f"Demo tenant  {demo.tenant_id} (the dashboard's account ID)",
            f"API key      {demo.api_key}",
            f"Try:         curl -H 'Authorization: Bearer {demo.api_key}' {base}/v1/orders",
            f"Sign-in      {demo.owner_email} / {demo.owner_password} (owner, POST /v1/session"
            f" with tenant_id, email, password)",
        ]
    lines.append("Ctrl-C stops the server, the projectors and the embedded servers.")
    width = max(len(line) for line in lines)
    rule = "=" * (width + 4)
    return "\n".join([rule, *(f"  {line}" for line in lines), rule])


def serve(
    settings: Settings,
    *,
    workers: int = 1,
    demo: bool = True,
    projectors: bool = True,
    relay: bool = True,
) -> None:
    """Run until SIGINT/SIGTERM; then stop the API, the workers (projectors, relay) and the
    embedded servers, in that order."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    from interfaces.bootstrap import migrate

    _check_port_free(settings.host, settings.port)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with EmbeddedServices(settings) as resolved:
        if workers > 1 and not resolved.redis_url:
            print(
                "warning: several API workers without KONTOR_REDIS_URL keep sessions, sign-in "
                "throttles and verified API keys per process (a revoked key can live on in "
                "another worker for up to 5 minutes); set KONTOR_REDIS_URL (ADR 0031)",
                file=sys.stderr,
                flush=True,
            )
        export_environment(resolved)
        migrate(resolved)
        demo_tenant: DemoTenant | None = None
        if demo:
            from interfaces.demo import ensure_demo

            demo_tenant = ensure_demo(
                resolved, orders=DEMO_ORDERS_NOW, history_days=400, history_orders=DEMO_HISTORY
            )
        from interfaces.expiry_worker import start_expiry
        from interfaces.invoicing_worker import start_invoicing
        from interfaces.mail_worker import start_mail
        from interfaces.workers import start_projectors, start_relay, start_webhooks

        stop_workers: list[Callable[[], None]] = []  # stopped in reverse order
        if projectors:
            from interfaces.analytics_worker import start_analytics_here

            stop_workers += [
                start_projectors(resolved),
                start_invoicing(resolved),
                start_webhooks(resolved),
                start_expiry(resolved),
                start_mail(resolved),
                start_analytics_here(resolved),
            ]
        if relay:
            stop_workers.append(start_relay(resolved))
        try:
            server = Granian(
                APP_FACTORY,
                address=resolved.host,
                port=resolved.port,
                interface=Interfaces.ASGI,
                workers=workers,
                loop=Loops.uvloop,
                factory=True,
            )
            # Workers start from a clean interpreter, not a fork of this threaded process.
            multiprocessing.set_start_method("spawn", force=True)
            print(banner(resolved, demo_tenant), flush=True)
            server.serve()
        finally:
            for stop in reversed(stop_workers):
                stop()


def _check_port_free(host: str, port: int) -> None:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        raise SystemExit(
            f"cannot listen on {host}:{port}: {error.strerror}. Stop whatever uses it, or set "
            "KONTOR_PORT (or --port) to another port"
        ) from None


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """Until granian takes the signal over, SIGTERM unwinds like Ctrl-C, stopping what started."""
    sys.exit(128 + signum)
