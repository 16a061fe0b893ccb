"""GET /v1/inventory/{sku}/movements: every movement of the ledger with time and reference,
from receipt to reservation, shipping, return and write-off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem
from tests.api.test_shipments import pick_all, shipment


def movements(tenant: Tenant, sku: str, **params: Any) -> list[dict[str, Any]]:
    response = tenant.get(f"/v1/inventory/{sku}/movements", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_every_movement_of_a_sku_is_listed_newest_first(seeded: Tenant, caught_up: Any) -> None:
    seeded.ok(
        "/v1/stock/adjustments",
        {"location": "BER", "sku": "TEE", "delta": -1, "reason": "cycle count"},
    )
    order = seeded.place(lines=[{"sku": "TEE", "quantity": 2, "unit_price": "19.00"}])
    sent = shipment(seeded, order, lines=[{"line_no": 1, "quantity": 1}])
    cancel = {"reason": "one is enough", "lines": [{"line_no": 1, "quantity": 1}]}
    seeded.ok(f"/v1/orders/{order['id']}/cancel", cancel, 200)
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    seeded.ok(f"/v1/shipments/{sent['id']}/ship", None, 200)
    line = {"sku": "TEE", "quantity": 1, "reason": "defective"}
    rma = seeded.ok(f"/v1/orders/{order['id']}/returns", {"lines": [line]})
    receipt = {"location": "BER", "lines": [{"sku": "TEE", "quantity": 1, "condition": "damaged"}]}
    seeded.ok(f"/v1/returns/{rma['id']}/receive", receipt, 200)
    caught_up()

    history = movements(seeded, "TEE", location="BER")
    assert [
        (m["kind"], m["quantity"], m["on_hand_change"], m["reserved_change"]) for m in history
    ] == [
        ("adjusted", 1, -1, 0),  # the damaged unit written off
        ("restocked", 1, 1, 0),
        ("committed", 1, -1, -1),
        ("released", 1, 0, -1),
        ("reserved", 2, 0, 2),
        ("adjusted", 1, -1, 0),
        ("received", 3, 3, 0),
    ]
    committed = history[2]
    assert committed["reference"] == f"shipment {sent['id']}"
    assert (committed["order_id"], committed["line_no"]) == (order["id"], 1)
    assert history[1]["reference"] == f"return {rma['id']}"
    assert history[3]["reference"] == "one is enough"
    level = seeded.inventory(sku="TEE", location="BER")[("TEE", "BER")]
    assert sum(m["on_hand_change"] for m in history) == level["on_hand"]
    assert sum(m["reserved_change"] for m in history) == level["reserved"]
    assert all(m["occurred_at"].endswith("Z") for m in history)


def test_movements_filter_by_location_and_kind_and_page(seeded: Tenant, caught_up: Any) -> None:
    seeded.ok(
        "/v1/stock/transfers",
        {"sku": "MUG", "from_location": "BER", "to_location": "MUC", "quantity": 2},
    )
    caught_up()
    assert [m["kind"] for m in movements(seeded, "MUG", location="MUC")] == [
        "transferred_in",
        "received",
    ]
    assert [m["location"] for m in movements(seeded, "MUG", kind="received")] == ["MUC", "BER"]
    first = seeded.get("/v1/inventory/MUG/movements", params={"limit": 3}).json()
    rest = seeded.get(
        "/v1/inventory/MUG/movements", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert len(first["items"]) == 3
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    assert movements(seeded, "NOPE") == []


@pytest.mark.parametrize(
    ("params", "status"),
    [({"kind": "stolen"}, 400), ({"cursor": "nope"}, 400), ({"limit": 0}, 422)],
)
def test_bad_movement_queries_are_refused(tenant: Tenant, params: Any, status: int) -> None:
    assert_problem(tenant.get("/v1/inventory/MUG/movements", params=params), status)


def test_another_tenants_movements_are_not_listed(
    seeded: Tenant, other: Tenant, caught_up: Any
) -> None:
    caught_up()
    assert movements(seeded, "MUG")
    assert movements(other, "MUG") == []
