"""A tenant's own box catalogue and carrier rate cards (one stream per tenant). Without them the
deployment's files apply. Replacing either is validated as a whole: every problem is reported
with the field it concerns, and a card set that could quote nonsense is never stored."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import singledispatch

import msgspec

from domain.shared.errors import InvalidCommand
from domain.shared.events import DomainEvent
from domain.shipment.packing import Box
from domain.shipment.rates import RateCard

MAX_BOXES = 200
MAX_CARDS = 200
COUNTRY = re.compile(r"^[A-Z]{2}$|^\*$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


class ShippingSettingsEvent(DomainEvent, frozen=True, kw_only=True):
    aggregate = "shipping_settings"


class BoxCatalogueSet(ShippingSettingsEvent, frozen=True, kw_only=True):
    version: str
    boxes: list[Box]


class RateCardsSet(ShippingSettingsEvent, frozen=True, kw_only=True):
    version: str
    cards: list[RateCard]


class BoxCatalogueCleared(ShippingSettingsEvent, frozen=True, kw_only=True):
    """Back to the deployment's catalogue."""


class RateCardsCleared(ShippingSettingsEvent, frozen=True, kw_only=True):
    """Back to the deployment's rate cards."""


class ShippingSettings(msgspec.Struct, frozen=True, kw_only=True):
    boxes: list[Box] | None = None
    box_version: str | None = None
    cards: list[RateCard] | None = None
    card_version: str | None = None


class InvalidSettings(InvalidCommand):
    code = "invalid_settings"

    def __init__(self, what: str, problems: list[tuple[str, str]]) -> None:
        field, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{what}: {field}: {message}{more}", field=field, errors=problems)


@singledispatch
def evolve(event: ShippingSettingsEvent, state: ShippingSettings) -> ShippingSettings:
    raise TypeError(f"shipping settings cannot apply {type(event).__name__}")


@evolve.register
def _(event: BoxCatalogueSet, state: ShippingSettings) -> ShippingSettings:
    return msgspec.structs.replace(state, boxes=list(event.boxes), box_version=event.version)


@evolve.register
def _(event: RateCardsSet, state: ShippingSettings) -> ShippingSettings:
    return msgspec.structs.replace(state, cards=list(event.cards), card_version=event.version)


@evolve.register
def _(event: BoxCatalogueCleared, state: ShippingSettings) -> ShippingSettings:
    return msgspec.structs.replace(state, boxes=None, box_version=None)


@evolve.register
def _(event: RateCardsCleared, state: ShippingSettings) -> ShippingSettings:
    return msgspec.structs.replace(state, cards=None, card_version=None)


def clear_boxes(state: ShippingSettings) -> list[ShippingSettingsEvent]:
    return [] if state.boxes is None else [BoxCatalogueCleared()]


def clear_cards(state: ShippingSettings) -> list[ShippingSettingsEvent]:
    return [] if state.cards is None else [RateCardsCleared()]


def set_boxes(
    state: ShippingSettings, *, version: str, boxes: Sequence[Box]
) -> list[ShippingSettingsEvent]:
    problems = box_problems(boxes)
    if problems:
        raise InvalidSettings("the box catalogue is invalid", problems)
    if state.boxes == list(boxes) and state.box_version == version:
        return []
    return [BoxCatalogueSet(version=version, boxes=list(boxes))]


def set_cards(
    state: ShippingSettings, *, version: str, cards: Sequence[RateCard]
) -> list[ShippingSettingsEvent]:
    problems = card_problems(cards)
    if problems:
        raise InvalidSettings("the rate cards are invalid", problems)
    if state.cards == list(cards) and state.card_version == version:
        return []
    return [RateCardsSet(version=version, cards=list(cards))]


def box_problems(boxes: Sequence[Box]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not 1 <= len(boxes) <= MAX_BOXES:
        problems.append(("boxes", f"give 1 to {MAX_BOXES} boxes"))
    seen: set[str] = set()
    for i, box in enumerate(boxes):
        at = f"boxes[{i}]"
        if not box.code.strip():
            problems.append((f"{at}.code", "a box needs a code"))
        elif box.code in seen:
            problems.append((f"{at}.code", f"box {box.code!r} is listed twice"))
        seen.add(box.code)
        for name in ("length_mm", "width_mm", "height_mm", "max_weight_grams"):
            if getattr(box, name) <= 0:
                problems.append((f"{at}.{name}", "must be positive"))
        if not 0 <= box.tare_grams < box.max_weight_grams:
            problems.append((f"{at}.tare_grams", "must be at least 0 and below max_weight_grams"))
    return problems


def card_problems(cards: Sequence[RateCard]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not 1 <= len(cards) <= MAX_CARDS:
        problems.append(("cards", f"give 1 to {MAX_CARDS} rate cards"))
    seen: set[tuple[str, str]] = set()
    for i, card in enumerate(cards):
        problems += _card_problems(f"cards[{i}]", card)
        if (card.carrier, card.service) in seen:
            problems.append((f"cards[{i}].service", f"{card.carrier} {card.service} twice"))
        seen.add((card.carrier, card.service))
    return problems


def _card_problems(at: str, card: RateCard) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not card.carrier.strip():
        problems.append((f"{at}.carrier", "a card needs a carrier"))
    if not card.service.strip():
        problems.append((f"{at}.service", "a card needs a service"))
    if not CURRENCY.match(card.currency):
        problems.append((f"{at}.currency", "an ISO 4217 code, e.g. EUR"))
    if not card.origin_countries:
        problems.append((f"{at}.origin_countries", "name at least one country"))
    for j, country in enumerate(card.origin_countries):
        if not COUNTRY.match(country):
            problems.append((f"{at}.origin_countries[{j}]", "an ISO 3166 alpha-2 code"))
    if card.dim_divisor <= 0:
        problems.append((f"{at}.dim_divisor", "must be positive"))
    if not 0 <= card.fuel_surcharge_percent <= 100:
        problems.append((f"{at}.fuel_surcharge_percent", "must be between 0 and 100"))
    if not card.zones:
        problems.append((f"{at}.zones", "name at least one zone"))
    zones = {rule.zone for rule in card.zones}
    for j, rule in enumerate(card.zones):
        if not rule.countries:
            problems.append((f"{at}.zones[{j}].countries", "name at least one country or *"))
        for k, country in enumerate(rule.countries):
            if not COUNTRY.match(country):
                problems.append((f"{at}.zones[{j}].countries[{k}]", "an ISO 3166 code or *"))
    for zone in sorted(zones):
        if not card.prices.get(zone):
            problems.append((f"{at}.prices.{zone}", "every zone needs weight breaks"))
        if card.transit_days.get(zone, 0) <= 0:
            problems.append((f"{at}.transit_days.{zone}", "every zone needs positive transit days"))
    for zone, breaks in card.prices.items():
        if zone not in zones:
            problems.append((f"{at}.prices.{zone}", "no zone rule leads to this zone"))
        last = 0
        for j, step in enumerate(breaks):
            if step.max_grams <= last:
                problems.append((f"{at}.prices.{zone}[{j}].max_grams", "breaks must ascend"))
            if step.price < 0:
                problems.append((f"{at}.prices.{zone}[{j}].price", "cannot be negative"))
            last = max(last, step.max_grams)
    for zone, extra in card.per_extra_kg.items():
        if extra < 0:
            problems.append((f"{at}.per_extra_kg.{zone}", "cannot be negative"))
    return problems


def fold(
    events: list[ShippingSettingsEvent], state: ShippingSettings | None = None
) -> ShippingSettings:
    current = state or ShippingSettings()
    for event in events:
        current = evolve(event, current)
    return current
