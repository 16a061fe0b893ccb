"""Stores, locations and products over the REST API."""

from __future__ import annotations

from uuid import UUID

from domain.shared.ids import location_stream_id
from tests.api.conftest import Tenant, assert_problem


def test_a_store_is_opened_and_then_listed(tenant: Tenant) -> None:
    body = tenant.ok(
        "/v1/stores",
        {"code": "web", "name": "Web shop", "currency": "EUR", "allow_backorders": True},
    )
    assert body == {
        "code": "web",
        "name": "Web shop",
        "currency": "EUR",
        "allow_backorders": True,
        "reservation_ttl_minutes": None,
        "locations": [],
    }

    listed = tenant.get("/v1/stores")
    assert listed.status_code == 200
    assert listed.json() == {"items": [body], "next_cursor": None}


def test_a_store_is_assigned_the_locations_that_fulfil_it(seeded: Tenant) -> None:
    put = seeded.client.put
    answer = put(
        "/v1/stores/web/locations", json={"locations": ["MUC", "BER"]}, headers=seeded.headers
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["locations"] == ["BER", "MUC"]
    assert answer.headers["etag"] == '"2"'
    stores = {s["code"]: s for s in seeded.get("/v1/stores").json()["items"]}
    assert stores["web"]["locations"] == ["BER", "MUC"]
    assert stores["b2b"]["locations"] == []


def test_bad_store_location_assignments_write_nothing(seeded: Tenant) -> None:
    before = seeded.event_count()
    put = seeded.client.put

    unknown = put("/v1/stores/web/locations", json={"locations": ["HAM"]}, headers=seeded.headers)
    no_store = put("/v1/stores/nope/locations", json={"locations": []}, headers=seeded.headers)
    extra = put("/v1/stores/web/locations", json={"locations": [], "x": 1}, headers=seeded.headers)
    scoped = seeded.with_key("operations", stores={"web"})
    other = put("/v1/stores/b2b/locations", json={"locations": []}, headers=scoped.headers)

    assert assert_problem(unknown, 422, "invalid_command")["errors"][0]["field"] == "locations"
    assert_problem(no_store, 404, "unknown_store")
    assert_problem(extra, 422, "validation_failed")
    assert_problem(other, 404, "unknown_store")
    assert seeded.event_count() == before


def test_a_store_refuses_backorders_unless_told_otherwise(tenant: Tenant) -> None:
    body = tenant.ok("/v1/stores", {"code": "web", "name": "Web", "currency": "EUR"})
    assert body["allow_backorders"] is False


def test_opening_the_same_store_twice_is_a_conflict_that_writes_nothing(tenant: Tenant) -> None:
    tenant.ok("/v1/stores", {"code": "web", "name": "Web", "currency": "EUR"})
    before = tenant.event_count()

    again = tenant.post("/v1/stores", {"code": "web", "name": "Web again", "currency": "EUR"})

    assert_problem(again, 409, "already_exists")
    assert tenant.event_count() == before


def test_a_location_gets_a_deterministic_id_and_is_listed(tenant: Tenant) -> None:
    body = tenant.ok(
        "/v1/locations", {"code": "BER", "name": "Berlin", "country": "DE", "region": "BE"}
    )
    assert UUID(body["id"]) == location_stream_id(tenant.tenant_id, "BER")
    assert body | {"id": None} == {
        "id": None,
        "code": "BER",
        "name": "Berlin",
        "country": "DE",
        "region": "BE",
    }
    tenant.ok("/v1/locations", {"code": "AMS", "name": "Amsterdam", "country": "NL"})

    listed = tenant.get("/v1/locations").json()

    assert [item["code"] for item in listed["items"]] == ["AMS", "BER"]
    assert listed["items"][0]["region"] is None


def test_a_product_is_defined_with_prices_per_store_and_read_back_by_sku(tenant: Tenant) -> None:
    tenant.ok("/v1/stores", {"code": "web", "name": "Web", "currency": "EUR"})
    created = tenant.ok(
        "/v1/products",
        {
            "sku": "MUG-1",
            "name": "Mug",
            "weight_grams": 350,
            "dimensions": {"length_mm": 120, "width_mm": 90, "height_mm": 100},
            "prices": [{"store": "web", "amount": "9.9", "currency": "EUR"}],
            "unit_cost": {"amount": "2.50", "currency": "EUR"},
        },
    )
    assert created == {
        "sku": "MUG-1",
        "name": "Mug",
        "weight_grams": 350,
        "dimensions": {"length_mm": 120, "width_mm": 90, "height_mm": 100},
        "prices": {"web": {"amount": "9.90", "currency": "EUR"}},
        "unit_cost": {"amount": "2.50", "currency": "EUR"},
    }

    fetched = tenant.get("/v1/products/MUG-1")
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_an_unknown_sku_is_a_404_problem(tenant: Tenant) -> None:
    assert_problem(tenant.get("/v1/products/NOPE"), 404, "product_not_found")


def test_products_are_listed_by_sku_a_page_at_a_time(tenant: Tenant) -> None:
    skus = [f"SKU-{n:02d}" for n in range(7)]
    for sku in reversed(skus):
        tenant.ok("/v1/products", {"sku": sku, "name": sku})

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = tenant.get("/v1/products", params=params).json()
        seen += [item["sku"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == skus
    assert pages == 3
