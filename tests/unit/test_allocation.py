"""Allocation: one location for the whole order if possible, nearest first, split if needed."""

from __future__ import annotations

import itertools

import pytest

from domain.location.model import Location
from domain.order.allocation import LineRequest, allocate, nearness
from domain.order.events import Address, Allocation, LineAllocation


def location(code: str, country: str, region: str | None = None) -> Location:
    return Location(code=code, name=code, country=country, region=region, exists=True)


BERLIN = location("BER", "DE", "BE")
POTSDAM = location("POT", "DE", "BE")
MUNICH = location("MUC", "DE", "BY")
HAMBURG = location("HAM", "DE", "HH")
PARIS = location("PAR", "FR", "IDF")
ALL = [PARIS, MUNICH, HAMBURG, BERLIN, POTSDAM]


def to(country: str, region: str | None = None) -> Address:
    return Address(
        name="Ada", line1="1 St", city="X", postal_code="1", country=country, region=region
    )


def lines(*wanted: tuple[str, int]) -> list[LineRequest]:
    return [LineRequest(no, sku, qty) for no, (sku, qty) in enumerate(wanted, start=1)]


def plan(*allocs: tuple[int, list[tuple[str, int]], int]) -> list[LineAllocation]:
    return [
        LineAllocation(no, [Allocation(loc, qty) for loc, qty in got], backordered)
        for no, got, backordered in allocs
    ]


def test_nearness_ranks_same_region_then_same_country_then_elsewhere() -> None:
    assert nearness(BERLIN, to("DE", "BE")) == 0
    assert nearness(MUNICH, to("DE", "BE")) == 1
    assert nearness(PARIS, to("DE", "BE")) == 2


def test_a_missing_region_never_counts_as_the_same_region() -> None:
    no_region = location("NOR", "DE")
    assert nearness(no_region, to("DE")) == 1
    assert nearness(BERLIN, to("DE")) == 1


def test_one_location_that_holds_the_whole_order_is_preferred_over_a_nearer_partial_one() -> None:
    available = {("A", "BER"): 5, ("A", "MUC"): 5, ("B", "MUC"): 5}
    got = allocate(lines(("A", 2), ("B", 1)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("MUC", 2)], 0), (2, [("MUC", 1)], 0))


def test_the_nearest_location_that_holds_the_whole_order_wins() -> None:
    available = {("A", "PAR"): 9, ("A", "MUC"): 9, ("A", "BER"): 9}
    assert allocate(lines(("A", 3)), available, ALL, to("DE", "BE")) == plan((1, [("BER", 3)], 0))
    assert allocate(lines(("A", 3)), available, ALL, to("DE", "BY")) == plan((1, [("MUC", 3)], 0))
    assert allocate(lines(("A", 3)), available, ALL, to("FR")) == plan((1, [("PAR", 3)], 0))


def test_the_same_country_wins_over_elsewhere() -> None:
    available = {("A", "PAR"): 9, ("A", "MUC"): 9}
    got = allocate(lines(("A", 3)), available, ALL, to("DE", "HH"))
    assert got == plan((1, [("MUC", 3)], 0))


def test_equally_near_locations_are_chosen_by_code() -> None:
    available = {("A", "POT"): 9, ("A", "BER"): 9}
    got = allocate(lines(("A", 3)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("BER", 3)], 0))


def test_the_plan_does_not_depend_on_the_order_locations_are_given_in() -> None:
    available = {("A", "POT"): 2, ("A", "BER"): 2, ("A", "MUC"): 2, ("A", "PAR"): 2}
    plans = {
        repr(allocate(lines(("A", 7)), available, list(order), to("DE", "BE")))
        for order in itertools.permutations(ALL)
    }
    assert len(plans) == 1
    assert allocate(lines(("A", 7)), available, ALL, to("DE", "BE")) == plan(
        (1, [("BER", 2), ("POT", 2), ("MUC", 2), ("PAR", 1)], 0)
    )


def test_a_line_no_single_location_can_fill_is_split_nearest_first() -> None:
    available = {("A", "PAR"): 5, ("A", "MUC"): 3, ("A", "BER"): 2}
    got = allocate(lines(("A", 8)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("BER", 2), ("MUC", 3), ("PAR", 3)], 0))


def test_when_the_order_is_split_each_line_prefers_a_location_that_fills_it_whole() -> None:
    available = {("A", "BER"): 3, ("A", "MUC"): 5, ("B", "PAR"): 1}
    got = allocate(lines(("A", 4), ("B", 1)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("MUC", 4)], 0), (2, [("PAR", 1)], 0))


def test_what_no_location_can_fill_is_backordered() -> None:
    available = {("A", "BER"): 2}
    got = allocate(lines(("A", 5), ("B", 1)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("BER", 2)], 3), (2, [], 1))


def test_two_lines_of_one_sku_count_availability_once() -> None:
    available = {("A", "BER"): 4, ("A", "MUC"): 4}
    got = allocate(lines(("A", 3), ("A", 3)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("BER", 3)], 0), (2, [("MUC", 3)], 0))


def test_two_lines_of_one_sku_fit_one_location_only_if_it_holds_both() -> None:
    available = {("A", "BER"): 6, ("A", "MUC"): 9}
    got = allocate(lines(("A", 3), ("A", 3)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("BER", 3)], 0), (2, [("BER", 3)], 0))


def test_two_lines_of_one_sku_never_take_more_than_there_is() -> None:
    available = {("A", "BER"): 5}
    got = allocate(lines(("A", 3), ("A", 3)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("BER", 3)], 0), (2, [("BER", 2)], 1))


def test_stock_at_a_location_not_offered_is_ignored() -> None:
    available = {("A", "BER"): 9}
    got = allocate(lines(("A", 1)), available, [MUNICH], to("DE", "BE"))
    assert got == plan((1, [], 1))


@pytest.mark.parametrize("free", [0, -1])
def test_a_location_with_nothing_free_gets_nothing(free: int) -> None:
    available = {("A", "BER"): free, ("A", "MUC"): 1}
    got = allocate(lines(("A", 2)), available, ALL, to("DE", "BE"))
    assert got == plan((1, [("MUC", 1)], 1))


def test_allocate_does_not_change_the_availability_it_is_given() -> None:
    available = {("A", "BER"): 2}
    allocate(lines(("A", 2)), available, ALL, to("DE", "BE"))
    assert available == {("A", "BER"): 2}
