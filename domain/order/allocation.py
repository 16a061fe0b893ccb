"""Allocation policy: which locations fill which order lines.

1. If one location can fill the whole order, use it (the nearest such location wins).
2. Otherwise fill each line from the nearest location that can take all of it, then split the
   rest across locations nearest first.
3. Whatever no location can fill is backordered (refused unless the store allows backorders).

Nearness is a rank: same country and region, same country, anywhere. Ties break on location code,
so the same inputs always give the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from domain.location.model import Location
from domain.order.events import Address, Allocation, LineAllocation


class LineRequest(msgspec.Struct, frozen=True):
    line_no: int
    sku: str
    quantity: int


def nearness(location: Location, destination: Address) -> int:
    if location.country == destination.country:
        if location.region and location.region == destination.region:
            return 0
        return 1
    return 2


def allocate(
    lines: Sequence[LineRequest],
    available: Mapping[tuple[str, str], int],
    locations: Sequence[Location],
    destination: Address,
) -> list[LineAllocation]:
    """`available` maps (sku, location code) to units free to reserve."""
    ranked = sorted(locations, key=lambda loc: (nearness(loc, destination), loc.code))
    remaining = dict(available)

    single = _single_location(lines, remaining, ranked)
    if single is not None:
        return [
            LineAllocation(line.line_no, [Allocation(single.code, line.quantity)], 0)
            for line in lines
        ]

    plan: list[LineAllocation] = []
    for line in lines:
        need = line.quantity
        whole = [loc for loc in ranked if remaining.get((line.sku, loc.code), 0) >= need]
        candidates = whole[:1] + [loc for loc in ranked if loc not in whole[:1]]
        allocations: list[Allocation] = []
        for loc in candidates:
            if need == 0:
                break
            free = remaining.get((line.sku, loc.code), 0)
            take = min(free, need)
            if take > 0:
                allocations.append(Allocation(loc.code, take))
                remaining[(line.sku, loc.code)] = free - take
                need -= take
        plan.append(LineAllocation(line.line_no, allocations, need))
    return plan


def _single_location(
    lines: Sequence[LineRequest],
    available: Mapping[tuple[str, str], int],
    ranked: Sequence[Location],
) -> Location | None:
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    for loc in ranked:
        if all(available.get((sku, loc.code), 0) >= qty for sku, qty in wanted.items()):
            return loc
    return None
