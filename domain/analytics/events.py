"""Events the analytics side raises for integrators and the dashboard: one stream per alert
(tenant, currency and hour), so an alert is raised once however often the detector runs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.shared.events import DomainEvent


class RevenueAnomalyDetected(DomainEvent, frozen=True, kw_only=True):
    """An hour's revenue differs from the same hour of the previous weeks by more than the
    configured threshold."""

    aggregate = "analytics_alert"
    hour: datetime
    currency: str
    revenue: Decimal
    baseline: Decimal
    change_pct: Decimal
    z_score: Decimal | None  # None when the previous weeks had identical revenue
    weeks: int
    threshold_pct: Decimal
    detected_at: datetime
