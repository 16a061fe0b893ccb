"""The invoicing process manager as a background thread (in `kontor serve`) or a worker."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from interfaces.config import Settings

log = structlog.get_logger("kontor.invoicing")
IDLE_SECONDS = 0.2


def start_invoicing(settings: Settings) -> Callable[[], None]:
    """Runs the process manager on a daemon thread until the returned `stop` is called."""
    from interfaces.bootstrap import build_container

    container = build_container(settings, pool_size=2)
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            try:
                handled = container.invoicing.run_once()
            except Exception:  # a database hiccup: the position is kept, so retry later
                log.exception("invoicing failed; retrying")
                handled = 0
            if not handled:
                stopping.wait(IDLE_SECONDS)

    thread = threading.Thread(target=loop, name="kontor-invoicing", daemon=True)
    thread.start()
    log.info("invoicing started")

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)
        container.close()
        log.info("invoicing stopped")

    return stop
