"""Reference data: products, locations and stores are defined once, with valid codes."""

from __future__ import annotations

import pytest
from hypothesis import given as given_h
from hypothesis import settings
from hypothesis import strategies as st

from domain.location.model import Location, LocationOpened, open_location
from domain.location.model import evolve as evolve_location
from domain.product.model import Dimensions, Product, ProductDefined, define_product
from domain.product.model import evolve as evolve_product
from domain.shared.errors import InvalidCommand
from domain.shared.money import Money, UnknownCurrency
from domain.shared.reference import AlreadyExists, check_code
from domain.store.model import (
    Store,
    StoreLocationsAssigned,
    StoreNotFound,
    StoreOpened,
    assign_locations,
    open_store,
)
from domain.store.model import evolve as evolve_store
from tests.support.gwt import given


def folder(evolve, empty):
    def fold(events):
        state = empty
        for event in events:
            state = evolve(event, state)
        return state

    return fold


fold_product = folder(evolve_product, Product())
fold_location = folder(evolve_location, Location())
fold_store = folder(evolve_store, Store())

BOX = Dimensions(100, 50, 20)
PRICES = {"web": Money.of("9.99", "EUR")}


def define(sku="SKU-1", name="Mug", weight=300, dims=BOX, prices=PRICES, cost=None):
    return lambda s: define_product(
        s, sku=sku, name=name, weight_grams=weight, dimensions=dims, prices=prices, unit_cost=cost
    )


MUG = ProductDefined(
    sku="SKU-1", name="Mug", weight_grams=300, dimensions=BOX, prices=PRICES, unit_cost=None
)


# --- products --------------------------------------------------------------------------------


def test_a_product_is_defined_with_its_prices_and_cost() -> None:
    cost = Money.of("3.10", "EUR")
    given([], fold_product).when(define(cost=cost)).then(
        [
            ProductDefined(
                sku="SKU-1", name="Mug", weight_grams=300, dimensions=BOX, prices=PRICES,
                unit_cost=cost,
            )
        ]
    )  # fmt: skip


def test_a_defined_product_exists() -> None:
    product = fold_product([MUG])
    assert product.exists
    assert (product.sku, product.prices) == ("SKU-1", PRICES)


def test_defining_a_product_twice_is_refused() -> None:
    given([MUG], fold_product).when(define()).then_refused(
        AlreadyExists, match="product 'SKU-1' already exists", code="already_exists"
    )


@pytest.mark.parametrize("sku", ["", "-lead", "has space", "x" * 65, "ü", "a/b"])
def test_a_product_with_an_invalid_sku_is_refused(sku: str) -> None:
    given([], fold_product).when(define(sku=sku)).then_refused(InvalidCommand, match="SKU")


def test_a_product_without_a_name_is_refused() -> None:
    given([], fold_product).when(define(name="  ")).then_refused(InvalidCommand, match="name")


@pytest.mark.parametrize(
    ("weight", "dims"),
    [(-1, BOX), (1, Dimensions(-1, 1, 1)), (1, Dimensions(1, -1, 1)), (1, Dimensions(1, 1, -1))],
)
def test_a_product_with_negative_weight_or_dimensions_is_refused(weight, dims) -> None:
    given([], fold_product).when(define(weight=weight, dims=dims)).then_refused(
        InvalidCommand, match="cannot be negative"
    )


def test_a_product_with_a_negative_price_is_refused() -> None:
    prices = {"web": Money.of("-0.01", "EUR")}
    given([], fold_product).when(define(prices=prices)).then_refused(
        InvalidCommand, match="prices cannot be negative"
    )


def test_a_product_with_a_negative_unit_cost_is_refused() -> None:
    given([], fold_product).when(define(cost=Money.of("-1", "EUR"))).then_refused(
        InvalidCommand, match="unit cost cannot be negative"
    )


# --- locations -------------------------------------------------------------------------------


def test_a_location_is_opened_with_its_country_and_region() -> None:
    given([], fold_location).when(
        lambda s: open_location(s, code="WH-1", name="Berlin", country="DE", region="BE")
    ).then([LocationOpened(code="WH-1", name="Berlin", country="DE", region="BE")])


def test_opening_a_location_twice_is_refused() -> None:
    opened = LocationOpened(code="WH-1", name="Berlin", country="DE", region=None)
    assert fold_location([opened]).exists
    given([opened], fold_location).when(
        lambda s: open_location(s, code="WH-1", name="Again", country="DE", region=None)
    ).then_refused(AlreadyExists, match="location 'WH-1' already exists")


@pytest.mark.parametrize("code", ["", "_x", "a b", "x" * 65])
def test_a_location_with_an_invalid_code_is_refused(code: str) -> None:
    given([], fold_location).when(
        lambda s: open_location(s, code=code, name="X", country="DE", region=None)
    ).then_refused(InvalidCommand, match="location code")


@pytest.mark.parametrize("country", ["de", "DEU", "D", "", "1A"])
def test_a_location_with_an_invalid_country_is_refused(country: str) -> None:
    given([], fold_location).when(
        lambda s: open_location(s, code="WH-1", name="X", country=country, region=None)
    ).then_refused(InvalidCommand, match="ISO 3166-1 alpha-2")


# --- stores ----------------------------------------------------------------------------------


def test_a_store_is_opened_with_its_currency_and_backorder_policy() -> None:
    given([], fold_store).when(
        lambda s: open_store(s, code="web", name="Web", currency="EUR", allow_backorders=True)
    ).then([StoreOpened(code="web", name="Web", currency="EUR", allow_backorders=True)])


def test_a_store_denies_backorders_by_default() -> None:
    store = fold_store([StoreOpened(code="web", name="Web", currency="EUR")])
    assert store.exists
    assert store.allow_backorders is False


def test_opening_a_store_twice_is_refused() -> None:
    given([StoreOpened(code="web", name="Web", currency="EUR")], fold_store).when(
        lambda s: open_store(s, code="web", name="Web", currency="EUR", allow_backorders=False)
    ).then_refused(AlreadyExists, match="store 'web' already exists", code="already_exists")


def test_a_store_with_an_invalid_code_is_refused() -> None:
    given([], fold_store).when(
        lambda s: open_store(s, code="no way", name="X", currency="EUR", allow_backorders=False)
    ).then_refused(InvalidCommand, match="store code")


@pytest.mark.parametrize("currency", ["eur", "XXX", "EURO", ""])
def test_a_store_with_an_unknown_currency_is_refused(currency: str) -> None:
    given([], fold_store).when(
        lambda s: open_store(s, code="web", name="X", currency=currency, allow_backorders=False)
    ).then_refused(UnknownCurrency, code="unknown_currency")


@pytest.mark.parametrize("code", ["A", "a.b_c-9", "9" * 64])
def test_codes_of_letters_digits_dots_underscores_and_dashes_are_accepted(code: str) -> None:
    assert check_code(code, "code") == code


# --- a store's fulfilment locations ----------------------------------------------------------

WEB = StoreOpened(code="web", name="Web", currency="EUR")
KNOWN = ("BER", "MUC", "HAM")


def assign(*locations: str):
    return lambda s: assign_locations(s, code="web", locations=locations, known=KNOWN)


def test_a_store_is_assigned_the_locations_that_fulfil_it() -> None:
    given([WEB], fold_store).when(assign("MUC", "BER", "MUC")).then(
        [StoreLocationsAssigned(code="web", locations=("BER", "MUC"))]
    )


def test_assigning_replaces_the_previous_set_and_the_same_set_again_changes_nothing() -> None:
    assigned = StoreLocationsAssigned(code="web", locations=("BER", "MUC"))
    assert fold_store([WEB, assigned, StoreLocationsAssigned(code="web", locations=("HAM",))]) == (
        Store(code="web", name="Web", currency="EUR", locations=("HAM",), exists=True)
    )
    given([WEB, assigned], fold_store).when(assign("MUC", "BER")).then([])
    given([WEB, assigned], fold_store).when(assign()).then(
        [StoreLocationsAssigned(code="web", locations=())]
    )


def test_unknown_locations_and_unknown_stores_are_refused() -> None:
    given([WEB], fold_store).when(assign("BER", "NOPE")).then_refused(InvalidCommand, match="NOPE")
    given([], fold_store).when(assign("BER")).then_refused(StoreNotFound, code="unknown_store")


@settings(max_examples=50)
@given_h(st.lists(st.lists(st.sampled_from(KNOWN), max_size=4), min_size=1, max_size=5))
def test_a_store_holds_the_last_set_assigned(assignments: list[list[str]]) -> None:
    state = fold_store([WEB])
    for chosen in assignments:
        for event in assign(*chosen)(state):
            state = evolve_store(event, state)
    assert state.locations == tuple(sorted(set(assignments[-1])))
