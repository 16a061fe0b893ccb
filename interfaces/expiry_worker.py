"""The reservation-expiry process manager as a background thread of `kontor serve`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from interfaces.config import Settings
from interfaces.fulfilment_settings import FulfilmentSettings

log = structlog.get_logger("kontor.expiry")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def start_expiry(
    settings: Settings,
    every: float | None = None,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> Callable[[], None] | None:
    """Runs the expiry every `every` seconds (KONTOR_EXPIRY_INTERVAL_SECONDS, default 60; 0 turns
    it off) until the returned `stop` is called. Runs in several processes are safe: each
    order's own stream decides, so an order expires once. `clock` lets tests move time on."""
    from interfaces.bootstrap import build_container

    interval = FulfilmentSettings.from_env().expiry_interval_seconds if every is None else every
    if interval <= 0:
        return None
    container = build_container(settings, pool_size=2)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.wait(interval):
            try:
                expired = container.expiry.run_once(clock())
            except Exception:  # a database hiccup must not end the worker; the next run retries
                log.exception("reservation expiry failed")
                continue
            if expired:
                log.info("reservations expired", orders=expired)

    thread = threading.Thread(target=run, name="reservation-expiry", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)
        container.close()

    return stop
