"""Packing recommendation: the smallest boxes of a catalogue that hold a shipment's units.

Units are placed largest first into a parcel while they still fit the largest box (each unit's
sorted dimensions within the box's, total volume within the box's usable share, weight within its
limit); then every parcel gets the smallest box that holds what it was given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from domain.product.model import Product
from domain.shared.errors import DomainError
from domain.shipment.events import Parcel, ParcelLine

FILL = 0.85  # share of a box's volume that goods can use (the rest is padding and air)


class Box(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_grams: int
    tare_grams: int = 0

    @property
    def volume(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm

    def holds(self, units: Sequence[Unit]) -> bool:
        inside = sorted((self.length_mm, self.width_mm, self.height_mm))
        return (
            all(all(u <= b for u, b in zip(unit.dims, inside, strict=True)) for unit in units)
            and sum(unit.volume for unit in units) <= self.volume * FILL
            and sum(unit.weight for unit in units) + self.tare_grams <= self.max_weight_grams
        )


class Unit(msgspec.Struct, frozen=True):
    line_no: int
    dims: tuple[int, int, int]
    weight: int

    @property
    def volume(self) -> int:
        return self.dims[0] * self.dims[1] * self.dims[2]


class DoesNotFit(DomainError):
    code = "does_not_fit"


def recommend(
    lines: Mapping[int, tuple[str, int]],
    products: Mapping[str, Product],
    boxes: Sequence[Box],
) -> list[Parcel]:
    """`lines` maps line number to (sku, units to pack)."""
    if not boxes:
        raise DoesNotFit("the box catalogue is empty")
    by_size = sorted(boxes, key=lambda box: (box.volume, box.max_weight_grams, box.code))
    largest = by_size[-1]
    units: list[Unit] = []
    for line_no, (sku, quantity) in sorted(lines.items()):
        product = products[sku]
        d = product.dimensions
        dims = tuple(sorted((d.length_mm, d.width_mm, d.height_mm))) if d else (0, 0, 0)
        unit = Unit(line_no, (dims[0], dims[1], dims[2]), product.weight_grams)
        if not largest.holds([unit]):
            raise DoesNotFit(f"{sku} does not fit any box of the catalogue", sku=sku)
        units.extend([unit] * quantity)
    units.sort(key=lambda unit: (-unit.volume, -unit.weight, unit.line_no))

    groups: list[list[Unit]] = []
    for unit in units:
        for group in groups:
            if largest.holds([*group, unit]):
                group.append(unit)
                break
        else:
            groups.append([unit])

    parcels: list[Parcel] = []
    for group in groups:
        box = next(box for box in by_size if box.holds(group))
        counts: dict[int, int] = {}
        for unit in group:
            counts[unit.line_no] = counts.get(unit.line_no, 0) + 1
        parcels.append(
            Parcel(
                length_mm=box.length_mm,
                width_mm=box.width_mm,
                height_mm=box.height_mm,
                weight_grams=max(1, sum(unit.weight for unit in group) + box.tare_grams),
                lines=[ParcelLine(no, qty) for no, qty in sorted(counts.items())],
                box=box.code,
            )
        )
    return parcels
