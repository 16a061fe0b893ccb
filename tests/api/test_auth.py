"""Authentication (Bearer API keys) and tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem, order_body

ENDPOINTS = [
    ("GET", "/v1/stores"),
    ("GET", "/v1/locations"),
    ("GET", "/v1/products"),
    ("GET", "/v1/products/MUG"),
    ("GET", "/v1/inventory"),
    ("GET", "/v1/orders"),
    ("GET", "/v1/orders/00000000-0000-4000-8000-000000000000"),
    ("POST", "/v1/orders"),
    ("POST", "/v1/stock/receipts"),
]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer   ",
        "Basic dXNlcjpwYXNz",
        "Token kontor_x_y",
        "Bearer not-a-kontor-key",
        "Bearer kontor_00000000000000000000000000000000_secret",
        "Bearer kontor_nothex_secret",
    ],
    ids=[
        "no header",
        "empty header",
        "scheme without key",
        "blank key",
        "basic scheme",
        "other scheme",
        "malformed key",
        "unknown key id",
        "key id not hex",
    ],
)
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_request_without_a_valid_bearer_key_is_a_401_problem(
    client: Any, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.request(method, path, headers=headers, json=order_body())
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_tampered_secret_for_a_real_key_id_is_a_401(tenant: Tenant, client: Any) -> None:
    tampered = tenant.api_key[:-4] + ("AAAA" if not tenant.api_key.endswith("AAAA") else "BBBB")
    response = client.get("/v1/orders", headers={"Authorization": f"Bearer {tampered}"})
    assert_problem(response, 401, "unauthorized")


def test_the_bearer_scheme_is_case_insensitive(tenant: Tenant, client: Any) -> None:
    response = client.get("/v1/stores", headers={"Authorization": f"bearer {tenant.api_key}"})
    assert response.status_code == 200


def test_another_tenants_order_is_a_404_for_reads_and_writes(seeded: Tenant, other: Tenant) -> None:
    order = seeded.place()
    before = seeded.event_count()

    assert_problem(other.get(f"/v1/orders/{order['id']}"), 404, "order_not_found")
    for path, body in (("hold", {"reason": "x"}), ("cancel", {"reason": "x"}), ("release", None)):
        assert_problem(other.post(f"/v1/orders/{order['id']}/{path}", body), 404)

    assert seeded.event_count() == before
    assert other.event_count() == 0
    assert seeded.get(f"/v1/orders/{order['id']}").json() == order


def test_another_tenants_catalog_inventory_and_orders_are_invisible(
    seeded: Tenant, other: Tenant, caught_up: Any
) -> None:
    seeded.place()
    caught_up()

    for path in ("/v1/stores", "/v1/locations", "/v1/products", "/v1/inventory", "/v1/orders"):
        response = other.get(path)
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}, path
    assert_problem(other.get("/v1/products/MUG"), 404, "product_not_found")
    assert seeded.get("/v1/inventory").json()["items"]


def test_another_tenants_codes_cannot_be_used_to_write(seeded: Tenant, other: Tenant) -> None:
    """The other tenant has no store, location or product of these codes: 422, nothing written."""
    response = other.post(
        "/v1/stock/receipts", {"location": "BER", "lines": [{"sku": "MUG", "quantity": 1}]}
    )
    assert_problem(response, 422, "unknown_location")
    assert_problem(other.post("/v1/orders", order_body()), 422, "unknown_store")
    assert other.event_count() == 0


def test_two_tenants_may_use_the_same_codes_independently(seeded: Tenant, other: Tenant) -> None:
    other.seed()
    mine = seeded.place(external_id="E-1")
    theirs = other.place(external_id="E-1")
    assert mine["id"] != theirs["id"]
