"""Revenue anomalies: an hour against the same hour of the previous weeks."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from application.context import CommandContext
from application.ports import Append, ConcurrencyConflict, EventStore
from domain.analytics.events import RevenueAnomalyDetected
from domain.shared.ids import stream_id

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Anomaly:
    hour: datetime
    currency: str
    revenue: Decimal
    baseline: Decimal
    change_pct: Decimal
    z_score: Decimal | None


def check(
    revenue: Mapping[datetime, Decimal],
    hour: datetime,
    currency: str,
    *,
    weeks: int = 4,
    threshold_pct: Decimal = Decimal(50),
    min_z: Decimal = Decimal(3),
) -> Anomaly | None:
    """Compares `hour` with the same hour of the `weeks` before (hours without sales count as
    zero). An anomaly changes by at least `threshold_pct` from their mean and lies at least
    `min_z` standard deviations from it; with no revenue in those weeks there is no baseline."""
    value = revenue.get(hour, Decimal(0))
    before = [revenue.get(hour - WEEK * n, Decimal(0)) for n in range(1, weeks + 1)]
    baseline = sum(before, Decimal(0)) / weeks
    if baseline == 0:
        return None
    change = (value - baseline) * 100 / baseline
    spread = Decimal(statistics.stdev(before)) if weeks > 1 else Decimal(0)
    z = (value - baseline) / spread if spread else None
    if abs(change) < threshold_pct or (z is not None and abs(z) < min_z):
        return None
    return Anomaly(
        hour=hour,
        currency=currency,
        revenue=value,
        baseline=baseline.quantize(Decimal("0.01")),
        change_pct=change.quantize(Decimal("0.1")),
        z_score=None if z is None else z.quantize(Decimal("0.01")),
    )


def alert_stream(tenant_id: UUID, anomaly: Anomaly) -> UUID:
    return stream_id(tenant_id, "analytics_alert", anomaly.currency, anomaly.hour.isoformat())


def raise_alert(
    store: EventStore,
    ctx: CommandContext,
    anomaly: Anomaly,
    *,
    weeks: int,
    threshold_pct: Decimal,
    now: datetime,
) -> bool:
    """Appends the alert once per tenant, currency and hour; False if it was raised before."""
    event = RevenueAnomalyDetected(
        hour=anomaly.hour,
        currency=anomaly.currency,
        revenue=anomaly.revenue,
        baseline=anomaly.baseline,
        change_pct=anomaly.change_pct,
        z_score=anomaly.z_score,
        weeks=weeks,
        threshold_pct=threshold_pct,
        detected_at=now,
    )
    try:
        store.append([Append(alert_stream(ctx.tenant_id, anomaly), 0, [event])], ctx.metadata(now))
    except ConcurrencyConflict:
        return False
    return True
