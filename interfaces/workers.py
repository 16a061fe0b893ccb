"""Worker entry points: the projectors, in this process (embedded default) or their own."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import structlog

from adapters.postgres.event_store import library_env
from interfaces.config import Settings
from projections.runner import start_runners

log = structlog.get_logger("kontor.projectors")


def _env(settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        raise RuntimeError("KONTOR_DATABASE_URL must be set to run the projectors")
    return library_env(settings.database_url, pool_size=2)


def start_projectors(settings: Settings) -> Callable[[], None]:
    """Starts every Postgres read-model projector on background threads; returns `stop`."""
    runners = start_runners(_env(settings))
    log.info("projectors started", count=len(runners))

    def stop() -> None:
        for runner in runners:
            runner.stop()
        log.info("projectors stopped")

    return stop


def run_projectors(settings: Settings) -> None:
    """`kontor project`: runs the projectors until SIGINT/SIGTERM."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    stop = start_projectors(settings)
    from interfaces.analytics_worker import start_analytics_worker

    stop_analytics = start_analytics_worker(settings)
    try:
        stopping.wait()
    finally:
        stop_analytics()
        stop()
