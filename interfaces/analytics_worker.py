"""The ClickHouse analytics projector as a background thread, or as the `kontor project` worker.

With the embedded engine (chdb), only one process may open the data directory, so the API
worker that serves the analytics endpoints runs the projector too (ADR 0024).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

import structlog

from adapters.embedded.clickhouse import SharedClient, is_chdb, shared_client
from application.analytics.anomalies import Anomaly, check, raise_alert
from application.analytics.periods import buckets
from application.context import CommandContext
from interfaces.config import Settings
from projections.analytics import queries
from projections.analytics.projector import AnalyticsProjector

if TYPE_CHECKING:
    from interfaces.bootstrap import Container

log = structlog.get_logger("kontor.analytics")
IN_API = "KONTOR_ANALYTICS_IN_API"
HOUR = timedelta(hours=1)


def start_analytics(settings: Settings) -> Callable[[], None]:
    """Migrates the analytics schema and projects on a daemon thread until `stop` is called."""
    from interfaces.bootstrap import build_container

    if settings.clickhouse_url is None:
        raise RuntimeError("KONTOR_CLICKHOUSE_URL must be set to run the analytics projector")
    container = build_container(settings, pool_size=2)
    projector = AnalyticsProjector(container.datastore, shared_client(settings.clickhouse_url))
    projector.migrate()
    stopping = threading.Event()
    threads = [
        threading.Thread(
            target=projector.run, args=(stopping,), name="kontor-analytics", daemon=True
        ),
        threading.Thread(
            target=watch_anomalies,
            args=(container, projector.client, stopping),
            name="kontor-anomalies",
            daemon=True,
        ),
    ]
    for thread in threads:
        thread.start()
    log.info("analytics projector started", position=projector.position())

    def stop() -> None:
        stopping.set()
        for thread in threads:
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


def anomaly_settings() -> tuple[Decimal, Decimal, int]:
    """Threshold (% change), minimum z-score and weeks of baseline, from the environment."""
    return (
        Decimal(os.environ.get("KONTOR_ANOMALY_THRESHOLD_PCT") or 50),
        Decimal(os.environ.get("KONTOR_ANOMALY_MIN_Z") or 3),
        int(os.environ.get("KONTOR_ANOMALY_WEEKS") or 4),
    )


def hourly_revenue(
    client: SharedClient,
    tenant_id: UUID,
    start: datetime,
    end: datetime,
    stores: frozenset[str] | None = None,
) -> dict[str, dict[datetime, Decimal]]:
    """Revenue per currency and hour in [start, end) (of these stores; None: all)."""
    by_currency: dict[str, dict[datetime, Decimal]] = {}
    scope = queries.Scope(tenant_id, start, end, stores=stores)
    for at, currency, value in queries.timeseries(client, scope, "revenue", "hour"):
        by_currency.setdefault(currency or "", {})[at.replace(tzinfo=UTC)] = value
    return by_currency


def scan_anomalies(
    client: SharedClient,
    tenant_id: UUID,
    start: datetime,
    end: datetime,
    stores: frozenset[str] | None,
    *,
    threshold_pct: Decimal,
    min_z: Decimal,
    weeks: int,
) -> list[Anomaly]:
    """The anomalous hours in [start, end) of these stores' revenue (None: all stores), each
    against the same hour of the `weeks` before."""
    revenue = hourly_revenue(client, tenant_id, start - timedelta(weeks=weeks), end, stores)
    found = []
    for currency, by_hour in sorted(revenue.items()):
        for hour in buckets(start, end, "hour"):
            anomaly = check(
                by_hour, hour, currency, weeks=weeks, threshold_pct=threshold_pct, min_z=min_z
            )
            if anomaly is not None:
                found.append(anomaly)
    return found


def detect_anomalies(container: Container, client: SharedClient, now: datetime) -> int:
    """Checks the last complete hour of every tenant with recent sales; raises an alert event
    for each anomaly not raised before. Returns how many it raised."""
    threshold, min_z, weeks = anomaly_settings()
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = hour - timedelta(weeks=weeks)
    raised = 0
    for tenant_id in queries.active_tenants(client, start):
        ctx = CommandContext(tenant_id=tenant_id, actor="system:analytics")
        for currency, revenue in hourly_revenue(client, tenant_id, start, hour + HOUR).items():
            found = check(
                revenue, hour, currency, weeks=weeks, threshold_pct=threshold, min_z=min_z
            )
            if found is not None:
                raised += raise_alert(
                    container.store, ctx, found, weeks=weeks, threshold_pct=threshold, now=now
                )
    return raised


def watch_anomalies(
    container: Container, client: SharedClient, stopping: threading.Event, every: float = 300
) -> None:
    while not stopping.wait(every):
        try:
            detect_anomalies(container, client, datetime.now(UTC))
        except Exception:  # a server hiccup: the next round checks again
            log.exception("anomaly detection failed")
