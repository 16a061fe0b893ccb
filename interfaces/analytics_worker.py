"""The ClickHouse analytics projector as a background thread, or as the `kontor project` worker.

With the embedded engine (chdb), only one process may open the data directory, so the API
worker that serves the analytics endpoints runs the projector too (ADR 0024).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import structlog

from adapters.embedded.clickhouse import is_chdb, shared_client
from interfaces.config import Settings
from projections.analytics.projector import AnalyticsProjector

log = structlog.get_logger("kontor.analytics")
IN_API = "KONTOR_ANALYTICS_IN_API"


def start_analytics(settings: Settings) -> Callable[[], None]:
    """Migrates the analytics schema and projects on a daemon thread until `stop` is called."""
    from interfaces.bootstrap import build_container

    if settings.clickhouse_url is None:
        raise RuntimeError("KONTOR_CLICKHOUSE_URL must be set to run the analytics projector")
    container = build_container(settings, pool_size=2)
    projector = AnalyticsProjector(container.datastore, shared_client(settings.clickhouse_url))
    projector.migrate()
    stopping = threading.Event()
    thread = threading.Thread(
        target=projector.run, args=(stopping,), name="kontor-analytics", daemon=True
    )
    thread.start()
    log.info("analytics projector started", position=projector.position())

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)
        container.close()
        log.info("analytics projector stopped")

    return stop


def start_analytics_here(settings: Settings) -> Callable[[], None]:
    """For `kontor serve`: a ClickHouse server is fed from this process; the embedded engine is
    left to the API worker process, which is told so through the environment."""
    if settings.clickhouse_url is None:
        return lambda: None
    if is_chdb(settings.clickhouse_url):
        os.environ[IN_API] = "1"
        return lambda: None
    return start_analytics(settings)


def start_analytics_worker(settings: Settings) -> Callable[[], None]:
    """For `kontor project`: feeds a ClickHouse server. The embedded engine belongs to
    `kontor serve`, which projects into it itself."""
    if settings.clickhouse_url is None or is_chdb(settings.clickhouse_url):
        return lambda: None
    return start_analytics(settings)
