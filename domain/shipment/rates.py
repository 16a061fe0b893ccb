"""Rate cards: what a carrier service charges for parcels from one country to a destination.

A card maps a destination (country, optionally a postal-code prefix) to a zone, and each zone to
weight breaks. A parcel is billed on the greater of its actual weight and its dimensional weight
(length x width x height / divisor), rounded up to the next break; beyond the last break each
started kilogram costs `per_extra_kg`. A fuel surcharge (percent) applies to the total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from domain.shared.money import Money, round_money
from domain.shipment.events import Parcel


class ZoneRule(msgspec.Struct, frozen=True):
    zone: str
    countries: list[str]
    postal_prefixes: list[str] = msgspec.field(default_factory=list)


class WeightBreak(msgspec.Struct, frozen=True):
    max_grams: int
    price: Decimal


class RateCard(msgspec.Struct, frozen=True, kw_only=True):
    carrier: str
    service: str
    origin_countries: list[str]
    currency: str
    transit_days: dict[str, int]
    zones: list[ZoneRule]
    prices: dict[str, list[WeightBreak]]
    per_extra_kg: dict[str, Decimal] = msgspec.field(default_factory=dict)
    dim_divisor: int = 5000
    fuel_surcharge_percent: Decimal = Decimal(0)


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    carrier: str
    service: str
    amount: Money
    zone: str
    transit_days: int
    billable_grams: int


def zone_for(card: RateCard, country: str, postal_code: str) -> str | None:
    """The most specific matching rule wins: a postal prefix beats a whole country."""
    best: tuple[int, str] | None = None
    for rule in card.zones:
        if country not in rule.countries and "*" not in rule.countries:
            continue
        if rule.postal_prefixes:
            matches = [p for p in rule.postal_prefixes if postal_code.startswith(p)]
            if not matches:
                continue
            specificity = 2 + max(len(p) for p in matches)
        else:
            specificity = 1 if country in rule.countries else 0
        if best is None or specificity > best[0]:
            best = (specificity, rule.zone)
    return None if best is None else best[1]


def billable_grams(card: RateCard, parcel: Parcel) -> int:
    volume_cm3 = parcel.length_mm * parcel.width_mm * parcel.height_mm / 1000
    dimensional = math.ceil(volume_cm3 / card.dim_divisor * 1000)
    return max(parcel.weight_grams, dimensional)


def parcel_price(card: RateCard, zone: str, grams: int) -> Decimal:
    breaks = sorted(card.prices[zone], key=lambda b: b.max_grams)
    for weight_break in breaks:
        if grams <= weight_break.max_grams:
            return weight_break.price
    last = breaks[-1]
    extra_kg = math.ceil((grams - last.max_grams) / 1000)
    return last.price + extra_kg * card.per_extra_kg.get(zone, Decimal(0))


def quote(
    card: RateCard, parcels: Sequence[Parcel], origin_country: str, country: str, postal_code: str
) -> Quote | None:
    """The card's price for these parcels, or None when it does not serve the route."""
    if origin_country not in card.origin_countries or not parcels:
        return None
    zone = zone_for(card, country, postal_code)
    if zone is None or zone not in card.prices:
        return None
    grams = [billable_grams(card, parcel) for parcel in parcels]
    base = sum((parcel_price(card, zone, g) for g in grams), Decimal(0))
    total = base * (1 + card.fuel_surcharge_percent / 100)
    return Quote(
        carrier=card.carrier,
        service=card.service,
        amount=round_money(total, card.currency),
        zone=zone,
        transit_days=card.transit_days.get(zone, 0),
        billable_grams=sum(grams),
    )
