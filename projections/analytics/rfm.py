"""RFM scoring: quintile cuts over a tenant's customers, scores 1-5 and the segment they make.

The customers report counts customers per (currency, recency, orders, churn risk) in ClickHouse
and scores those buckets here: a few thousand buckets for a tenant's 160,000 customers, and one
definition of the scores for the segments and for the listed customers alike (ADR 0053).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

QUINTILES = (0.2, 0.4, 0.6, 0.8)


def exact_quantiles(counts: Mapping[int, int]) -> list[float]:
    """ClickHouse's `quantilesExact(0.2, 0.4, 0.6, 0.8)` of values given with how often each
    occurs: the value at index floor(level x n) of all n sorted (no interpolation)."""
    total = sum(counts.values())
    if not total:
        return []
    ordered = sorted(counts.items())
    cuts = []
    for level in QUINTILES:
        index, seen = int(level * total), 0
        for value, count in ordered:
            seen += count
            if seen > index:
                cuts.append(float(value))
                break
    return cuts


@dataclass(frozen=True)
class Cuts:
    """The quintile cuts of recency (days since the last order), orders and monetary value. A
    score is one more than the number of cuts a value passes: 5 is the most recent, the most
    orders, the most spent."""

    recency: Sequence[float]
    orders: Sequence[float]
    monetary: Sequence[Decimal]

    def r(self, recency_days: int) -> int:
        return 1 + sum(recency_days < cut for cut in self.recency)

    def f(self, orders: int) -> int:
        return 1 + sum(orders > cut for cut in self.orders)

    def m(self, monetary: Decimal) -> int:
        return 1 + sum(monetary > cut for cut in self.monetary)


def segment(r: int, f: int, orders: int) -> str:
    """The RFM segment of a customer's recency and frequency scores."""
    if r >= 4 and f >= 4:
        return "champions"
    if f >= 4:
        return "loyal"
    if r >= 4 and orders == 1:
        return "new"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r <= 2:
        return "hibernating"
    return "promising"
