"""Editing an order's lines over the REST API: stock follows per line, open shipments shrink,
a line being picked is a 409, and every refusal writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem
from tests.api.test_shipments import pick_all

MUG = {"sku": "MUG", "unit_price": "9.90"}
TEE = {"sku": "TEE", "unit_price": "19.00"}


def mugs_and_a_tee(tenant: Tenant) -> dict[str, Any]:
    return tenant.place(lines=[MUG | {"quantity": 3}, TEE | {"quantity": 1}])


def edit(tenant: Tenant, order: dict[str, Any], body: dict[str, Any], **headers: str) -> Any:
    return tenant.post(f"/v1/orders/{order['id']}/lines", body, headers=headers or None)


def refused(tenant: Tenant, order: dict[str, Any], body: Any, status: int, code: str) -> None:
    before = tenant.event_count()
    assert_problem(edit(tenant, order, body), status, code)
    assert tenant.event_count() == before


def test_an_edit_reserves_and_releases_stock_per_line(seeded: Tenant, caught_up: Any) -> None:
    order = mugs_and_a_tee(seeded)
    body = {
        "lines": [{"line_no": 1, "quantity": 5}, {"line_no": 2, "quantity": 0}],
        "add": [{"sku": "MUG", "quantity": 2, "unit_price": "8.00"}],
    }
    response = edit(seeded, order, body)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert response.headers["etag"] == f'"{edited["version"]}"'
    quantities = {(x["line_no"], x["sku"]): x["open_quantity"] for x in edited["lines"]}
    assert quantities == {(1, "MUG"): 5, (2, "TEE"): 0, (3, "MUG"): 2}
    assert edited["totals"]["subtotal"] == {"amount": "65.50", "currency": "EUR"}
    caught_up()
    levels = seeded.inventory()
    assert levels[("MUG", "BER")]["reserved"] == 7
    assert levels[("TEE", "BER")]["reserved"] == 0


def test_an_edit_shrinks_the_open_shipment(seeded: Tenant) -> None:
    order = mugs_and_a_tee(seeded)
    shipment = seeded.ok(f"/v1/orders/{order['id']}/shipments", {"location": "BER"})
    assert edit(seeded, order, {"lines": [{"line_no": 1, "quantity": 1}]}).status_code == 200
    lines = seeded.get(f"/v1/shipments/{shipment['id']}").json()["lines"]
    assert [(x["sku"], x["quantity"]) for x in lines] == [("MUG", 1), ("TEE", 1)]


def test_a_line_being_picked_cannot_be_edited(seeded: Tenant) -> None:
    order = mugs_and_a_tee(seeded)
    shipment = seeded.ok(f"/v1/orders/{order['id']}/shipments", {"location": "BER"})
    pick = {"lines": [{"line_no": 1, "picked": 1}]}
    seeded.ok(f"/v1/shipments/{shipment['id']}/pick", pick, 200)
    refused(seeded, order, {"lines": [{"line_no": 1, "quantity": 4}]}, 409, "picking_started")


def test_an_edit_honours_if_match_and_idempotency_keys(seeded: Tenant) -> None:
    order = mugs_and_a_tee(seeded)
    body = {"lines": [{"line_no": 1, "quantity": 4}]}
    stale = edit(seeded, order, body, **{"If-Match": '"999"'})
    assert_problem(stale, 412)
    first = edit(seeded, order, body, **{"Idempotency-Key": "edit-1"})
    again = edit(seeded, order, body, **{"Idempotency-Key": "edit-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert seeded.get(f"/v1/orders/{order['id']}").json()["lines"][0]["quantity"] == 4


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_command"),
        ({"lines": [{"line_no": 9, "quantity": 1}]}, 422, "unknown_line"),
        ({"lines": [{"line_no": 1, "quantity": -1}]}, 422, "validation_failed"),
        ({"lines": [{"line_no": 1, "quantity": 0}, {"line_no": 2, "quantity": 0}]}, 422, None),
        ({"add": [{"sku": "NOPE", "quantity": 1, "unit_price": "1.00"}]}, 422, "unknown_sku"),
        ({"lines": [{"line_no": 1, "quantity": 50}]}, 409, "insufficient_stock"),
        ({"lines": [], "colour": "red"}, 422, "validation_failed"),
    ],
)
def test_bad_edits_are_refused_and_write_nothing(
    seeded: Tenant, body: dict[str, Any], status: int, code: str
) -> None:
    order = mugs_and_a_tee(seeded)
    refused(seeded, order, body, status, code)


def test_an_added_line_ships_like_any_other(seeded: Tenant) -> None:
    order = mugs_and_a_tee(seeded)
    body = {"add": [{"sku": "MUG", "quantity": 1, "unit_price": "9.90"}]}
    assert edit(seeded, order, body).status_code == 200
    sent = seeded.ok(f"/v1/orders/{order['id']}/shipments", {"location": "BER"})
    assert [(x["line_no"], x["quantity"]) for x in sent["lines"]] == [(1, 3), (2, 1), (3, 1)]
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    seeded.ok(f"/v1/shipments/{sent['id']}/ship", None, 200)
    assert seeded.get(f"/v1/orders/{order['id']}").json()["status"] == "shipped"
    refused(seeded, order, {"lines": [{"line_no": 3, "quantity": 2}]}, 409, "order_closed")
