"""Delivers the mail outbox (invitations, password resets) as a background thread of
`kontor serve`; by default into the log (ADR 0030)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from interfaces.config import Settings

log = structlog.get_logger("kontor.mail")
INTERVAL_SECONDS = 5.0


def start_mail(settings: Settings, every: float = INTERVAL_SECONDS) -> Callable[[], None]:
    """Delivers queued mail every `every` seconds until the returned `stop` is called. Several
    deliverers are safe: each locks the rows it sends (SKIP LOCKED)."""
    from interfaces.bootstrap import build_container

    container = build_container(settings, pool_size=1)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.wait(every):
            try:
                container.outbox.deliver()
            except Exception:  # a database hiccup must not end the worker; the next run retries
                log.exception("mail delivery failed")

    thread = threading.Thread(target=run, name="mail-outbox", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)
        container.close()

    return stop
