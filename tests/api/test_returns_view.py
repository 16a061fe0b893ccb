"""The returns read model over the REST API: the list by status and reason category, and the
returns and units per reason category over a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem
from tests.api.test_shipments import shipped_order


def rma(tenant: Tenant, order: dict[str, Any], *lines: tuple[str, int, str]) -> dict[str, Any]:
    body = {"lines": [{"sku": sku, "quantity": qty, "reason": why} for sku, qty, why in lines]}
    return tenant.ok(f"/v1/orders/{order['id']}/returns", body)


@pytest.fixture
def three_returns(seeded: Tenant, caught_up: Any) -> list[dict[str, Any]]:
    """Oldest first: a defective mug (received), a wrong-size mug and a tee damaged on the way,
    one mug changed-mind."""
    first = rma(seeded, shipped_order(seeded), ("MUG", 2, "defective"))
    receipt = {"location": "BER", "lines": [{"sku": "MUG", "quantity": 2, "condition": "damaged"}]}
    seeded.ok(f"/v1/returns/{first['id']}/receive", receipt, 200)
    second = rma(
        seeded,
        shipped_order(seeded),
        ("MUG", 1, "wrong_size"),
        ("MUG", 1, "changed_mind"),
        ("TEE", 1, "damaged_in_transit"),
    )
    third = rma(seeded, shipped_order(seeded), ("MUG", 1, "changed_mind"))
    caught_up()
    return [first, second, third]


def listed(tenant: Tenant, **params: Any) -> list[str]:
    response = tenant.get("/v1/returns", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_returns_are_listed_newest_first_by_status_and_category(
    seeded: Tenant, three_returns: list[dict[str, Any]]
) -> None:
    first, second, third = (r["id"] for r in three_returns)
    assert listed(seeded) == [third, second, first]
    assert listed(seeded, status="received") == [first]
    assert listed(seeded, status="authorized") == [third, second]
    assert listed(seeded, reason_category="carrier") == [second]
    assert listed(seeded, reason_category="customer_preference") == [third, second]
    assert listed(seeded, reason_category="fulfilment_error") == []
    item = seeded.get("/v1/returns").json()["items"][-1]
    assert item == seeded.get(f"/v1/returns/{first}").json()


def test_the_list_pages_with_a_cursor(seeded: Tenant, three_returns: list[dict[str, Any]]) -> None:
    page = seeded.get("/v1/returns", params={"limit": 2}).json()
    assert len(page["items"]) == 2
    rest = seeded.get("/v1/returns", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [x["id"] for x in rest["items"]] == [three_returns[0]["id"]]
    assert rest["next_cursor"] is None


def test_reasons_count_returns_and_units_per_category(
    seeded: Tenant, three_returns: list[dict[str, Any]]
) -> None:
    body = seeded.get("/v1/returns/reasons").json()
    per_category = {c["category"]: (c["returns"], c["units"]) for c in body["categories"]}
    assert per_category == {
        "carrier": (1, 1),
        "customer_preference": (2, 3),  # the second return counts once for its two reasons
        "product_quality": (1, 2),
    }
    preference = next(c for c in body["categories"] if c["category"] == "customer_preference")
    assert {(r["reason"], r["returns"], r["units"]) for r in preference["reasons"]} == {
        ("changed_mind", 2, 2),
        ("wrong_size", 1, 1),
    }
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert seeded.get("/v1/returns/reasons", params={"from": future}).json()["categories"] == []
    until_tomorrow = seeded.get("/v1/returns/reasons", params={"to": future}).json()
    assert until_tomorrow["categories"] == body["categories"]


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/v1/returns", {"status": "lost"}, 400, "invalid_status"),
        ("/v1/returns", {"reason_category": "mood"}, 400, "invalid_reason_category"),
        ("/v1/returns", {"cursor": "nope"}, 400, "invalid_cursor"),
        ("/v1/returns", {"limit": 0}, 422, "validation_failed"),
        ("/v1/returns/reasons", {"from": "yesterday"}, 422, "validation_failed"),
        ("/v1/returns/reasons", {"from": "2025-01-01T00:00:00"}, 400, "invalid_time"),
        (
            "/v1/returns/reasons",
            {"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
            400,
            "invalid_period",
        ),
    ],
)
def test_bad_queries_are_refused(
    tenant: Tenant, path: str, params: Any, status: int, code: str
) -> None:
    assert_problem(tenant.get(path, params=params), status, code)


def test_another_tenants_returns_are_not_listed(
    other: Tenant, three_returns: list[dict[str, Any]]
) -> None:
    assert listed(other) == []
    assert other.get("/v1/returns/reasons").json()["categories"] == []
