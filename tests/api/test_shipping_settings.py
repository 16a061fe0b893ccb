"""A tenant's own box catalogue and rate cards over the REST API: the defaults until replaced,
then packing, rates and labels follow the tenant's; bad ones are a 422 naming every field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem
from tests.api.test_shipments import order_at_berlin, pick_all, shipment

ONE_BOX = {"version": "own-1", "boxes": [{"code": "TUBE", "length_mm": 900, "width_mm": 400,
           "height_mm": 400, "max_weight_grams": 30000, "tare_grams": 300}]}  # fmt: skip
CARD = {
    "carrier": "Bikes",
    "service": "sameday",
    "origin_countries": ["DE"],
    "currency": "EUR",
    "transit_days": {"city": 1, "rest": 3},
    "zones": [
        {"zone": "city", "countries": ["DE"], "postal_prefixes": ["10"]},
        {"zone": "rest", "countries": ["*"], "postal_prefixes": []},
    ],
    "prices": {
        "city": [{"max_grams": 5000, "price": "4.00"}, {"max_grams": 20000, "price": "9.00"}],
        "rest": [{"max_grams": 30000, "price": "25.00"}],
    },
    "fuel_surcharge_percent": "0",
}


def put(tenant: Tenant, path: str, body: Any, **headers: str) -> Any:
    return tenant.client.put(path, json=body, headers=tenant.headers | headers)


def picked(tenant: Tenant) -> str:
    sent = shipment(tenant, order_at_berlin(tenant))
    pick_all(tenant, sent)
    return str(sent["id"])


def test_the_defaults_apply_until_a_tenant_sets_its_own(seeded: Tenant) -> None:
    boxes = seeded.get("/v1/settings/boxes")
    assert boxes.status_code == 200
    assert boxes.headers["etag"] == '"0"'
    assert boxes.json()["source"] == "default"
    assert {"S", "M", "L"} <= {box["code"] for box in boxes.json()["boxes"]}
    carriers = seeded.get("/v1/settings/carriers").json()
    assert carriers["source"] == "default"
    assert {"UPS", "FedEx", "USPS", "DHL"} <= {card["carrier"] for card in carriers["cards"]}


def test_a_tenants_boxes_drive_the_packing_recommendation(seeded: Tenant, other: Tenant) -> None:
    response = put(seeded, "/v1/settings/boxes", ONE_BOX)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    assert response.json() == ONE_BOX | {"source": "tenant"}
    assert seeded.get("/v1/settings/boxes").json()["boxes"] == ONE_BOX["boxes"]
    parcels = seeded.get(f"/v1/shipments/{picked(seeded)}/packing").json()["parcels"]
    assert {(p["length_mm"], p["width_mm"], p["height_mm"]) for p in parcels} == {(900, 400, 400)}
    assert other.get("/v1/settings/boxes").json()["source"] == "default"


def test_a_tenants_rate_cards_drive_rates_and_labels(seeded: Tenant) -> None:
    response = put(seeded, "/v1/settings/carriers", {"version": "own-1", "cards": [CARD]})
    assert response.status_code == 200, response.text
    assert response.json()["cards"] == [CARD | {"per_extra_kg": {}, "dim_divisor": 5000}]
    shipment_id = picked(seeded)
    seeded.ok(f"/v1/shipments/{shipment_id}/pack", {}, 200)
    quotes = seeded.get(f"/v1/shipments/{shipment_id}/rates").json()["quotes"]
    assert [(q["carrier"], q["service"], q["zone"]) for q in quotes] == [
        ("Bikes", "sameday", "city")
    ]
    body = {"carrier": "Bikes", "service": "sameday"}
    label = seeded.ok(f"/v1/shipments/{shipment_id}/label", body, 200)["label"]
    assert label["cost"] == quotes[0]["amount"]
    refused = {"carrier": "UPS", "service": "standard"}
    assert_problem(seeded.post(f"/v1/shipments/{picked(seeded)}/label", refused), 409)


def test_deleting_a_tenants_settings_brings_the_defaults_back(seeded: Tenant) -> None:
    put(seeded, "/v1/settings/boxes", ONE_BOX)
    put(seeded, "/v1/settings/carriers", {"version": "own-1", "cards": [CARD]})
    boxes = seeded.client.delete("/v1/settings/boxes", headers=seeded.headers)
    assert boxes.status_code == 200, boxes.text
    assert (boxes.json()["source"], boxes.headers["etag"]) == ("default", '"3"')
    assert seeded.get("/v1/settings/carriers").json()["source"] == "tenant"
    stale = seeded.client.delete(
        "/v1/settings/carriers", headers=seeded.headers | {"If-Match": '"2"'}
    )
    assert_problem(stale, 412)
    cards = seeded.client.delete("/v1/settings/carriers", headers=seeded.headers)
    assert cards.json()["source"] == "default"
    again = seeded.client.delete("/v1/settings/carriers", headers=seeded.headers)
    assert again.headers["etag"] == '"4"'  # nothing left to clear: nothing written


def test_putting_the_same_settings_again_changes_nothing(seeded: Tenant) -> None:
    assert put(seeded, "/v1/settings/boxes", ONE_BOX).headers["etag"] == '"1"'
    before = seeded.event_count()
    assert put(seeded, "/v1/settings/boxes", ONE_BOX).headers["etag"] == '"1"'
    assert seeded.event_count() == before


def test_settings_honour_if_match(seeded: Tenant) -> None:
    assert_problem(put(seeded, "/v1/settings/boxes", ONE_BOX, **{"If-Match": '"3"'}), 412)
    assert put(seeded, "/v1/settings/boxes", ONE_BOX, **{"If-Match": '"0"'}).status_code == 200


def bad_card(**changes: Any) -> dict[str, Any]:
    card = copy.deepcopy(CARD) | changes
    return {"version": "bad", "cards": [card]}


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        (
            "/v1/settings/carriers",
            bad_card(
                prices={
                    "city": [{"max_grams": 5000, "price": "4"}, {"max_grams": 10, "price": "1"}]
                },
                origin_countries=["Germany"],
            ),
            {
                "cards[0].origin_countries[0]",
                "cards[0].prices.city[1].max_grams",
                "cards[0].prices.rest",
            },
        ),
        ("/v1/settings/carriers", {"version": "x", "cards": [CARD, CARD]}, {"cards[1].service"}),
        ("/v1/settings/carriers", bad_card(currency="euro"), None),
        ("/v1/settings/carriers", bad_card(dim_divisor=0), None),
        ("/v1/settings/carriers", {"version": "x", "cards": []}, None),
        (
            "/v1/settings/boxes",
            {"version": "x", "boxes": ONE_BOX["boxes"] * 2},
            {"boxes[1].code"},
        ),
        (
            "/v1/settings/boxes",
            {"version": "x", "boxes": [ONE_BOX["boxes"][0] | {"tare_grams": 40000}]},
            {"boxes[0].tare_grams"},
        ),
        ("/v1/settings/boxes", {"version": "x", "boxes": [{"code": "S"}]}, None),
        ("/v1/settings/boxes", {"boxes": ONE_BOX["boxes"]}, None),
    ],
)
def test_bad_settings_are_a_422_naming_the_fields_and_store_nothing(
    seeded: Tenant, path: str, body: Any, fields: set[str] | None
) -> None:
    before = seeded.event_count()
    problem = assert_problem(put(seeded, path, body), 422)
    if fields is not None:
        assert problem["code"] == "invalid_settings"
        assert {error["field"] for error in problem["errors"]} == fields
    else:
        assert problem["code"] == "validation_failed"
    assert seeded.event_count() == before
    assert seeded.get(path).json()["source"] == "default"
