"""Reporting periods: comparison periods, buckets of a time series, percentage change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

COMPARISONS = ("previous_period", "previous_year", "none")
INTERVALS = ("hour", "day", "week", "month")


def comparison(start: datetime, end: datetime, compare: str) -> tuple[datetime, datetime] | None:
    """The period a report compares with: the one just before, or the same weeks a year before
    (364 days back, so weekdays line up); None for `none`."""
    if compare == "none":
        return None
    back = end - start if compare == "previous_period" else timedelta(days=364)
    return start - back, end - back


def bucket_start(at: datetime, interval: str) -> datetime:
    at = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if interval == "hour":
        return at
    day = at.replace(hour=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def buckets(start: datetime, end: datetime, interval: str) -> Iterator[datetime]:
    """Every bucket that overlaps [start, end), oldest first."""
    at = bucket_start(start, interval)
    while at < end:
        yield at
        if interval == "hour":
            at += timedelta(hours=1)
        elif interval == "day":
            at += timedelta(days=1)
        elif interval == "week":
            at += timedelta(days=7)
        else:
            at = (at.replace(day=28) + timedelta(days=4)).replace(day=1)


def change_pct(value: Decimal, previous: Decimal | None) -> Decimal | None:
    """Percentage change to one decimal; None when there is nothing to compare with."""
    if previous is None or previous == 0:
        return None
    return ((value - previous) * 100 / abs(previous)).quantize(Decimal("0.1"))
