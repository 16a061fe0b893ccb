"""`kontor serve`: embedded servers (where unset), migrations, demo tenant, projectors, API."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable

from adapters.embedded.services import EmbeddedServices
from interfaces.config import Settings

APP_FACTORY = "interfaces.http.app:create_app_from_env"


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


def banner(settings: Settings, tenant_id: str | None, api_key: str | None) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [f"Kontor API   {base}", f"API docs     {base}/schema"]
    if tenant_id is not None and api_key is not None:
        lines += [
            f"Demo tenant  {tenant_id}",
            f"API key      {api_key}",
            f"Try:         curl -H 'Authorization: Bearer {api_key}' {base}/v1/orders",
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
        export_environment(resolved)
        migrate(resolved)
        tenant_id: str | None = None
        api_key: str | None = None
        if demo:
            from interfaces.demo import ensure_demo

            tenant_id, api_key = (str(value) for value in ensure_demo(resolved))
        from interfaces.expiry_worker import start_expiry
        from interfaces.invoicing_worker import start_invoicing
        from interfaces.workers import start_projectors, start_relay, start_webhooks

        stop_workers: list[Callable[[], None]] = []  # stopped in reverse order
        if projectors:
            from interfaces.analytics_worker import start_analytics_here

            stop_workers += [
                start_projectors(resolved),
                start_invoicing(resolved),
                start_webhooks(resolved),
                start_expiry(resolved),
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
            print(banner(resolved, tenant_id, api_key), flush=True)
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
