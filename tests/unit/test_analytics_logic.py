"""Pure analytics logic: anomaly rule, comparison periods, buckets, forecast backtest."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from application.analytics.anomalies import check
from application.analytics.forecast import NotEnoughHistory, forecast, mape
from application.analytics.periods import buckets, change_pct, comparison

HOUR = datetime(2026, 5, 12, 14, tzinfo=UTC)


def weekly(*values: str) -> dict[datetime, Decimal]:
    """Revenue at HOUR - n weeks for n = len(values) - 1 ... 0 (the last value is HOUR's)."""
    n = len(values) - 1
    return {HOUR - timedelta(weeks=n - i): Decimal(v) for i, v in enumerate(values)}


def test_a_spike_far_above_the_same_hour_of_previous_weeks_is_an_anomaly() -> None:
    found = check(weekly("100", "110", "90", "100", "400"), HOUR, "EUR")
    assert found is not None
    assert found.baseline == Decimal("100.00")
    assert found.change_pct == Decimal("300.0")


def test_a_drop_is_an_anomaly_too() -> None:
    assert check(weekly("100", "110", "90", "100", "0"), HOUR, "EUR") is not None


def test_a_change_within_the_usual_spread_is_not() -> None:
    assert check(weekly("20", "180", "50", "150", "200"), HOUR, "EUR") is None


def test_below_the_threshold_is_not() -> None:
    rule = {"threshold_pct": Decimal(60)}
    assert check(weekly("100", "100", "100", "101", "150"), HOUR, "EUR", **rule) is None


def test_without_revenue_in_previous_weeks_there_is_no_baseline() -> None:
    assert check(weekly("0", "0", "0", "0", "500"), HOUR, "EUR") is None


def test_comparison_periods() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
    assert comparison(start, end, "previous_period") == (start - (end - start), start)
    before = comparison(start, end, "previous_year")
    assert before is not None
    assert before[0].weekday() == start.weekday()
    assert comparison(start, end, "none") is None


def test_month_buckets_cover_the_period() -> None:
    start, end = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert [b.month for b in buckets(start, end, "month")] == [1, 2, 3]
    assert len(list(buckets(start, end, "week"))) == 12  # from Monday 12 January


def test_change_pct() -> None:
    assert change_pct(Decimal(150), Decimal(100)) == Decimal("50.0")
    assert change_pct(Decimal(5), Decimal(0)) is None


def test_forecast_of_a_weekly_pattern_backtests_well() -> None:
    history = [100 + 30 * math.sin(2 * math.pi * day / 7) + day * 0.2 for day in range(120)]
    result = forecast(history, 14)
    assert result.backtest_mape is not None
    assert result.backtest_mape < 5
    assert all(
        lo <= mid <= hi for lo, mid, hi in zip(result.lower, result.mean, result.upper, strict=True)
    )


def test_forecast_needs_history() -> None:
    with pytest.raises(NotEnoughHistory):
        forecast([1.0] * 20, 14)


def test_mape_skips_days_without_sales() -> None:
    assert mape([0, 100, 200], [5, 110, 180]) == pytest.approx(10)
