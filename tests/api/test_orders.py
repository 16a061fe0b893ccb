"""Orders over the REST API: place (reserving stock), read, list, cancel, hold, release."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.shared.ids import imported_order_id
from tests.api.conftest import Tenant, assert_problem, order_body

MUG = {"sku": "MUG", "unit_price": "9.90"}
TEE = {"sku": "TEE", "unit_price": "19.00"}


def _allocations(order: dict[str, Any]) -> dict[int, dict[str, int]]:
    return {
        line["line_no"]: {a["location"]: a["quantity"] for a in line["allocations"]}
        for line in order["lines"]
    }


def test_placing_an_order_reserves_stock_and_answers_201_with_totals(seeded: Tenant) -> None:
    response = seeded.post(
        "/v1/orders", order_body(lines=[MUG | {"quantity": 2}, TEE | {"quantity": 1}])
    )

    assert response.status_code == 201, response.text
    order = response.json()
    UUID(order["id"])
    assert response.headers["etag"] == f'"{order["version"]}"'
    assert order["status"] == "allocated"
    assert order["on_hold"] is False
    assert _allocations(order) == {1: {"BER": 2}, 2: {"BER": 1}}
    assert order["totals"] == {
        "subtotal": {"amount": "38.80", "currency": "EUR"},
        "units": 3,
        "backordered": 0,
    }
    assert order["lines"][0]["line_total"] == {"amount": "19.80", "currency": "EUR"}
    assert order["placed_at"].endswith(("Z", "+00:00"))


def test_an_order_prefers_the_location_nearest_its_destination(seeded: Tenant) -> None:
    order = seeded.place(lines=[MUG | {"quantity": 3}], region="BY")
    assert _allocations(order) == {1: {"MUC": 3}}


def test_an_order_no_single_location_can_fill_is_split_across_locations(seeded: Tenant) -> None:
    order = seeded.place(lines=[MUG | {"quantity": 12}])
    assert _allocations(order) == {1: {"BER": 10, "MUC": 2}}
    assert order["status"] == "allocated"


def test_a_store_that_takes_backorders_backorders_what_is_missing(
    seeded: Tenant, caught_up: Any
) -> None:
    order = seeded.place(store="b2b", lines=[MUG | {"quantity": 20}])

    assert order["status"] == "backordered"
    assert _allocations(order) == {1: {"BER": 10, "MUC": 5}}
    assert order["lines"][0]["backordered"] == 5
    assert order["totals"]["backordered"] == 5
    caught_up()
    assert all(level["available"] == 0 for level in seeded.inventory(sku="MUG").values())


def test_not_enough_stock_is_a_409_insufficient_stock_and_writes_nothing(
    seeded: Tenant, caught_up: Any
) -> None:
    before = seeded.event_count()

    response = seeded.post("/v1/orders", order_body(lines=[MUG | {"quantity": 16}]))

    problem = assert_problem(response, 409, "insufficient_stock")
    assert problem["context"] == {"short": {"MUG": 1}}
    assert seeded.event_count() == before
    caught_up()
    assert all(level["reserved"] == 0 for level in seeded.inventory().values())


def test_reposting_the_same_channel_and_external_id_returns_the_existing_order(
    seeded: Tenant,
) -> None:
    first = seeded.place(external_id="SHOP-1001")
    assert UUID(first["id"]) == imported_order_id(seeded.tenant_id, "web", "SHOP-1001")
    after_first = seeded.event_count()

    again = seeded.post("/v1/orders", order_body(external_id="SHOP-1001"))

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["version"] == first["version"]
    assert seeded.event_count() == after_first


def test_an_order_can_be_read_right_after_it_is_placed_with_its_version_as_etag(
    seeded: Tenant,
) -> None:
    placed = seeded.place()

    response = seeded.get(f"/v1/orders/{placed['id']}")

    assert response.status_code == 200
    assert response.json() == placed
    assert response.headers["etag"] == f'"{placed["version"]}"'


def test_an_unknown_order_is_a_404_problem(seeded: Tenant) -> None:
    assert_problem(
        seeded.get("/v1/orders/00000000-0000-4000-8000-000000000000"), 404, "order_not_found"
    )


def test_orders_are_listed_newest_first_a_page_at_a_time(seeded: Tenant, caught_up: Any) -> None:
    placed = [seeded.place(lines=[MUG | {"quantity": 1}])["id"] for _ in range(5)]
    caught_up()

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = seeded.get("/v1/orders", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(placed))
    assert pages == 3


def test_orders_are_filtered_by_status_store_and_a_search(seeded: Tenant, caught_up: Any) -> None:
    plain = seeded.place(email="grace@example.com", name="Grace Hopper")
    backordered = seeded.place(store="b2b", lines=[TEE | {"quantity": 5}], external_id="B2B-77")
    cancelled = seeded.place()
    seeded.ok(f"/v1/orders/{cancelled['id']}/cancel", {"reason": "changed mind"}, status=200)
    caught_up()

    def ids(**params: Any) -> set[str]:
        response = seeded.get("/v1/orders", params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids(status="backordered") == {backordered["id"]}
    assert ids(status="cancelled") == {cancelled["id"]}
    assert ids(status="allocated") == {plain["id"]}
    assert ids(store="b2b") == {backordered["id"]}
    assert ids(store="web") == {plain["id"], cancelled["id"]}
    assert ids(q="HOPPER") == {plain["id"]}
    assert ids(q="grace@") == {plain["id"]}
    assert ids(q="B2B-77") == {backordered["id"]}
    assert ids(q="nobody") == set()
    summary = seeded.get("/v1/orders", params={"status": "backordered"}).json()["items"][0]
    assert summary["total"] == {"amount": "95.00", "currency": "EUR"}
    assert (summary["units"], summary["backordered"]) == (5, 2)


def test_cancelling_a_whole_order_releases_its_stock(seeded: Tenant, caught_up: Any) -> None:
    order = seeded.place(lines=[MUG | {"quantity": 12}, TEE | {"quantity": 2}])

    cancelled = seeded.ok(
        f"/v1/orders/{order['id']}/cancel", {"reason": "customer asked"}, status=200
    )

    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "customer asked"
    assert cancelled["totals"]["units"] == 0
    assert _allocations(cancelled) == {1: {}, 2: {}}
    caught_up()
    assert all(level["reserved"] == 0 for level in seeded.inventory().values())
    again = seeded.post(f"/v1/orders/{order['id']}/cancel", {"reason": "twice"})
    assert_problem(again, 409, "order_cancelled")


def test_cancelling_some_lines_releases_only_their_stock(seeded: Tenant, caught_up: Any) -> None:
    order = seeded.place(lines=[MUG | {"quantity": 4}, TEE | {"quantity": 2}])

    response = seeded.post(
        f"/v1/orders/{order['id']}/cancel",
        {"reason": "out of budget", "lines": [{"line_no": 1, "quantity": 3}]},
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "allocated"
    assert [(line["cancelled"], line["open_quantity"]) for line in changed["lines"]] == [
        (3, 1),
        (0, 2),
    ]
    assert changed["totals"]["subtotal"] == {"amount": "47.90", "currency": "EUR"}
    assert response.headers["etag"] == f'"{changed["version"]}"'
    caught_up()
    levels = seeded.inventory(location="BER")
    assert levels[("MUG", "BER")]["reserved"] == 1
    assert levels[("TEE", "BER")]["reserved"] == 2


def test_cancelling_more_than_a_line_holds_is_refused_and_writes_nothing(seeded: Tenant) -> None:
    order = seeded.place()
    before = seeded.event_count()
    response = seeded.post(
        f"/v1/orders/{order['id']}/cancel",
        {"reason": "x", "lines": [{"line_no": 1, "quantity": 3}]},
    )
    assert_problem(response, 422)
    response = seeded.post(
        f"/v1/orders/{order['id']}/cancel",
        {"reason": "x", "lines": [{"line_no": 9, "quantity": 1}]},
    )
    assert_problem(response, 422, "unknown_line")
    assert seeded.event_count() == before


def test_an_order_is_held_and_released(seeded: Tenant, caught_up: Any) -> None:
    order = seeded.place()

    held = seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "fraud check"}, status=200)
    assert (held["on_hold"], held["hold_reason"]) == (True, "fraud check")
    assert held["version"] == order["version"] + 1
    assert_problem(
        seeded.post(f"/v1/orders/{order['id']}/hold", {"reason": "again"}), 409, "order_on_hold"
    )

    released = seeded.ok(f"/v1/orders/{order['id']}/release", None, status=200)
    assert (released["on_hold"], released["hold_reason"]) == (False, None)
    assert_problem(seeded.post(f"/v1/orders/{order['id']}/release"), 409, "order_not_on_hold")

    caught_up()
    summary = seeded.get("/v1/orders").json()["items"][0]
    assert (summary["on_hold"], summary["version"]) == (False, released["version"])


def test_if_match_with_the_current_version_lets_the_change_through(seeded: Tenant) -> None:
    order = seeded.place()
    etag = seeded.get(f"/v1/orders/{order['id']}").headers["etag"]

    response = seeded.post(
        f"/v1/orders/{order['id']}/hold", {"reason": "check"}, headers={"If-Match": etag}
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{order["version"] + 1}"'


def test_if_match_with_a_stale_version_is_a_412_and_writes_nothing(seeded: Tenant) -> None:
    order = seeded.place()
    stale = f'"{order["version"] - 1}"'
    before = seeded.event_count()

    for path, body in (
        ("hold", {"reason": "check"}),
        ("cancel", {"reason": "oops"}),
        ("release", None),
    ):
        response = seeded.post(
            f"/v1/orders/{order['id']}/{path}", body, headers={"If-Match": stale}
        )
        problem = assert_problem(response, 412, "precondition_failed")
        assert problem["context"] == {"version": order["version"]}

    assert seeded.event_count() == before
    assert seeded.get(f"/v1/orders/{order['id']}").json() == order


def test_orders_show_their_discounts_and_shipping_charge(seeded: Tenant, caught_up: Any) -> None:
    placed = seeded.place(
        lines=[
            {
                "sku": "MUG",
                "quantity": 2,
                "unit_price": "9.90",
                "discount": {"kind": "percentage", "value": "10"},
            }
        ],
        discount={"kind": "fixed", "value": "1.50"},
        shipping_charge="4.90",
    )
    detail = seeded.get(f"/v1/orders/{placed['id']}").json()
    for body in (placed, detail):
        assert body["discount"] == {"kind": "fixed", "value": "1.50"}
        assert body["shipping_charge"] == {"amount": "4.90", "currency": "EUR"}
        assert body["lines"][0]["discount"] == {"kind": "percentage", "value": "10"}
    caught_up()
    (listed,) = seeded.get("/v1/orders").json()["items"]
    assert listed["discount"] == {"kind": "fixed", "value": "1.50"}
    assert listed["shipping_charge"] == {"amount": "4.90", "currency": "EUR"}
    plain = seeded.place()
    assert (plain["discount"], plain["shipping_charge"]) == (None, None)
