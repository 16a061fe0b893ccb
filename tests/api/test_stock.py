"""Stock receipts, adjustments, transfers, and the inventory read model over the REST API."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Tenant, assert_problem


def test_a_receipt_adds_stock_and_feeds_the_moving_average_cost(seeded: Tenant) -> None:
    first = seeded.ok(
        "/v1/stock/receipts",
        {
            "location": "MUC",
            "lines": [
                {"sku": "TEE", "quantity": 4, "unit_cost": {"amount": "5.00", "currency": "EUR"}}
            ],
            "reference": "PO-1",
        },
    )
    assert first["items"] == [
        {
            "sku": "TEE",
            "location": "MUC",
            "on_hand": 4,
            "reserved": 0,
            "available": 4,
            "average_cost": {"amount": "5.0000", "currency": "EUR"},
            "version": 1,
        }
    ]
    second = seeded.ok(
        "/v1/stock/receipts",
        {
            "location": "MUC",
            "lines": [
                {"sku": "TEE", "quantity": 4, "unit_cost": {"amount": "7.00", "currency": "EUR"}}
            ],
        },
    )
    assert second["items"][0]["on_hand"] == 8
    assert second["items"][0]["average_cost"] == {"amount": "6.0000", "currency": "EUR"}


def test_inventory_levels_show_the_moving_average_cost_and_none_without_costs(
    seeded: Tenant, caught_up: Any
) -> None:
    cost = {"amount": "5.00", "currency": "EUR"}
    seeded.ok(
        "/v1/stock/receipts",
        {"location": "MUC", "lines": [{"sku": "TEE", "quantity": 4, "unit_cost": cost}]},
    )
    seeded.receive("MUC", CAP=2)

    caught_up()
    levels = seeded.inventory(location="MUC")
    assert levels[("TEE", "MUC")]["average_cost"] == {"amount": "5.0000", "currency": "EUR"}
    assert levels[("CAP", "MUC")]["average_cost"] is None
    assert levels[("CAP", "MUC")]["on_hand"] == 2


def test_a_receipt_of_several_lines_lands_in_one_request(seeded: Tenant) -> None:
    body = seeded.receive("MUC", TEE=2, CAP=6)
    assert {(i["sku"], i["on_hand"]) for i in body["items"]} == {("TEE", 2), ("CAP", 6)}


def test_a_cycle_count_sets_on_hand_to_what_was_counted(seeded: Tenant, caught_up: Any) -> None:
    body = seeded.ok(
        "/v1/stock/adjustments",
        {"location": "BER", "sku": "MUG", "counted": 7, "reason": "cycle count"},
    )
    assert (body["on_hand"], body["available"]) == (7, 7)

    caught_up()
    assert seeded.inventory(sku="MUG", location="BER")[("MUG", "BER")]["on_hand"] == 7


def test_a_delta_adjustment_corrects_on_hand(seeded: Tenant) -> None:
    body = seeded.ok(
        "/v1/stock/adjustments",
        {"location": "BER", "sku": "MUG", "delta": -2, "reason": "broken"},
    )
    assert body["on_hand"] == 8


def test_an_adjustment_below_what_is_reserved_is_refused(seeded: Tenant) -> None:
    seeded.place(lines=[{"sku": "TEE", "quantity": 3, "unit_price": "19.00"}])
    before = seeded.event_count()

    response = seeded.post(
        "/v1/stock/adjustments",
        {"location": "BER", "sku": "TEE", "counted": 1, "reason": "miscount"},
    )

    assert_problem(response, 409)
    assert seeded.event_count() == before


def test_a_transfer_moves_available_units_between_locations(seeded: Tenant, caught_up: Any) -> None:
    body = seeded.ok(
        "/v1/stock/transfers",
        {"from_location": "BER", "to_location": "MUC", "sku": "MUG", "quantity": 4},
    )
    assert (body["source"]["location"], body["source"]["on_hand"]) == ("BER", 6)
    assert (body["target"]["location"], body["target"]["on_hand"]) == ("MUC", 9)

    caught_up()
    levels = seeded.inventory(sku="MUG")
    assert levels[("MUG", "BER")]["on_hand"] == 6
    assert levels[("MUG", "MUC")]["on_hand"] == 9


def test_a_transfer_of_more_than_is_available_is_refused(seeded: Tenant) -> None:
    before = seeded.event_count()
    response = seeded.post(
        "/v1/stock/transfers",
        {"from_location": "BER", "to_location": "MUC", "sku": "TEE", "quantity": 4},
    )
    assert_problem(response, 409, "insufficient_stock")
    assert seeded.event_count() == before


def test_inventory_shows_on_hand_reserved_and_available_per_sku_and_location(
    seeded: Tenant, caught_up: Any
) -> None:
    seeded.place(lines=[{"sku": "MUG", "quantity": 4, "unit_price": "9.90"}])
    caught_up()

    levels = seeded.inventory()

    assert {key: (v["on_hand"], v["reserved"], v["available"]) for key, v in levels.items()} == {
        ("MUG", "BER"): (10, 4, 6),
        ("MUG", "MUC"): (5, 0, 5),
        ("TEE", "BER"): (3, 0, 3),
    }


def test_inventory_filters_by_sku_and_by_location(seeded: Tenant, caught_up: Any) -> None:
    caught_up()
    assert set(seeded.inventory(sku="MUG")) == {("MUG", "BER"), ("MUG", "MUC")}
    assert set(seeded.inventory(location="BER")) == {("MUG", "BER"), ("TEE", "BER")}
    assert set(seeded.inventory(sku="TEE", location="MUC")) == set()


def test_inventory_is_paged_with_cursors_until_the_last_page(
    seeded: Tenant, caught_up: Any
) -> None:
    for n in range(4):
        seeded.product(f"X{n}")
    seeded.receive("MUC", X0=1, X1=1, X2=1, X3=1, TEE=1)
    caught_up()

    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = seeded.get("/v1/inventory", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [(item["sku"], item["location"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 8
