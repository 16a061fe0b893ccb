"""A tenant's boxes and rate cards: given past settings / when replaced / then the event (or a
refusal naming every field at fault)."""

from __future__ import annotations

from decimal import Decimal

from domain.shipment.packing import Box
from domain.shipment.rates import RateCard, WeightBreak, ZoneRule
from domain.shipment.settings import (
    BoxCatalogueCleared,
    BoxCatalogueSet,
    InvalidSettings,
    RateCardsCleared,
    RateCardsSet,
    clear_boxes,
    fold,
    set_boxes,
    set_cards,
)
from tests.support.gwt import given

BOX = Box(code="S", length_mm=200, width_mm=150, height_mm=100, max_weight_grams=5000)
CARD = RateCard(
    carrier="Bikes",
    service="sameday",
    origin_countries=["DE"],
    currency="EUR",
    transit_days={"city": 1},
    zones=[ZoneRule("city", ["DE"])],
    prices={"city": [WeightBreak(5000, Decimal("4.00"))]},
)


def test_a_first_catalogue_is_set() -> None:
    given([], fold).when(lambda s: set_boxes(s, version="v1", boxes=[BOX])).then(
        [BoxCatalogueSet(version="v1", boxes=[BOX])]
    )


def test_the_same_catalogue_again_decides_nothing() -> None:
    given([BoxCatalogueSet(version="v1", boxes=[BOX])], fold).when(
        lambda s: set_boxes(s, version="v1", boxes=[BOX])
    ).then([])


def test_rate_cards_are_set_next_to_the_boxes() -> None:
    state = fold(
        [BoxCatalogueSet(version="v1", boxes=[BOX]), RateCardsSet(version="c1", cards=[CARD])]
    )
    assert (state.boxes, state.cards, state.card_version) == ([BOX], [CARD], "c1")


def test_clearing_goes_back_to_the_defaults_once() -> None:
    given([BoxCatalogueSet(version="v1", boxes=[BOX])], fold).when(clear_boxes).then(
        [BoxCatalogueCleared()]
    )
    given([BoxCatalogueSet(version="v1", boxes=[BOX]), BoxCatalogueCleared()], fold).when(
        clear_boxes
    ).then([])
    assert fold([RateCardsSet(version="c1", cards=[CARD]), RateCardsCleared()]).cards is None


def test_every_problem_of_a_card_is_named() -> None:
    bad = RateCard(
        carrier="Bikes",
        service="sameday",
        origin_countries=["de"],
        currency="EUR",
        transit_days={},
        zones=[ZoneRule("city", ["DE"])],
        prices={"city": [WeightBreak(5000, Decimal(4)), WeightBreak(100, Decimal(-1))]},
        fuel_surcharge_percent=Decimal(101),
    )
    refused = (
        given([], fold)
        .when(lambda s: set_cards(s, version="v", cards=[bad, CARD, CARD]))
        .then_refused(InvalidSettings, code="invalid_settings")
    )
    assert [field for field, _ in refused.context["errors"]] == [  # type: ignore[union-attr]
        "cards[0].origin_countries[0]",
        "cards[0].fuel_surcharge_percent",
        "cards[0].transit_days.city",
        "cards[0].prices.city[1].max_grams",
        "cards[0].prices.city[1].price",
        "cards[1].service",  # the same carrier service as the first
        "cards[2].service",
    ]
