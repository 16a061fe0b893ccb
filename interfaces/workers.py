"""Worker entry points: the projectors, in this process (embedded default) or their own."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from adapters.postgres.event_store import library_env
from interfaces.bootstrap import install_personal_data
from interfaces.config import Settings
from projections.relay import Relay, RelayConfig
from projections.runner import start_runners

log = structlog.get_logger("kontor.projectors")


def _env(settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        raise RuntimeError("KONTOR_DATABASE_URL must be set to run the projectors")
    return library_env(settings.database_url, pool_size=2)


def start_projectors(settings: Settings) -> Callable[[], None]:
    """Starts every Postgres read-model projector on background threads; returns `stop`."""
    install_personal_data(settings)
    runners = start_runners(_env(settings))
    log.info("projectors started", count=len(runners))

    def stop() -> None:
        for runner in runners:
            runner.stop()
        log.info("projectors stopped")

    return stop


def run_projectors(settings: Settings) -> None:
    """`kontor project`: runs the projectors and the webhook deliverer until SIGINT/SIGTERM."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    from interfaces.analytics_worker import start_analytics_worker

    stops = [start_projectors(settings), start_webhooks(settings), start_analytics_worker(settings)]
    try:
        stopping.wait()
    finally:
        for stop in stops:
            stop()


def relay_config(settings: Settings, **options: str) -> RelayConfig:
    if settings.database_url is None or settings.nats_url is None:
        raise RuntimeError("the relay needs KONTOR_DATABASE_URL and KONTOR_NATS_URL")
    return RelayConfig(settings.database_url, settings.nats_url, **options)  # type: ignore[arg-type]


def start_relay(settings: Settings) -> Callable[[], None]:
    """Runs the NATS relay on a background thread; returns `stop`."""
    install_personal_data(settings)
    stop, _ = start_relay_thread(relay_config(settings))
    log.info("relay started")
    return stop


def start_relay_thread(config: RelayConfig) -> tuple[Callable[[], None], threading.Thread]:
    """The relay on a thread with its own event loop; `stop` returns once it has stopped."""
    return start_async_worker(Relay(config).run, "kontor-relay")


def start_async_worker(
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]], name: str
) -> tuple[Callable[[], None], threading.Thread]:
    """`run(stopping)` on a thread with its own event loop; `stop` returns once it returned."""
    started = threading.Event()
    running: dict[str, Any] = {}

    async def main() -> None:
        running["loop"], running["stopping"] = asyncio.get_running_loop(), asyncio.Event()
        started.set()
        await run(running["stopping"])

    thread = threading.Thread(target=asyncio.run, args=(main(),), name=name, daemon=True)
    thread.start()
    started.wait()

    def stop() -> None:
        running["loop"].call_soon_threadsafe(running["stopping"].set)
        thread.join(timeout=20)

    return stop, thread


def run_relay(settings: Settings, **options: str) -> None:
    """`kontor relay`: relays until SIGINT/SIGTERM."""
    config = relay_config(settings, **options)
    install_personal_data(settings)

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        await Relay(config).run(stopping)

    asyncio.run(main())


def start_webhooks(settings: Settings) -> Callable[[], None]:
    """Runs the webhook deliverer on a background thread; returns `stop`."""
    from adapters.keyring import load_keyring
    from interfaces.bootstrap import webhook_guard
    from projections.webhooks import Deliverer, WebhookConfig

    assert settings.database_url is not None
    keyring = load_keyring(settings.secret_key, settings.data_dir)
    install_personal_data(settings, keyring)
    config = WebhookConfig(settings.database_url, keyring, guard=webhook_guard(settings))
    stop, _ = start_async_worker(Deliverer(config).run, "kontor-webhooks")
    log.info("webhook deliverer started")
    return stop
