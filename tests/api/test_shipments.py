"""Shipments, pick lists, returns and stock settings over the REST API, with their refusals:
every bad input is a 4xx problem+json and writes nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from tests.api.conftest import Tenant, assert_problem

MUG = {"sku": "MUG", "unit_price": "9.90"}
TEE = {"sku": "TEE", "unit_price": "19.00"}


def order_at_berlin(tenant: Tenant, mugs: int = 3, tees: int = 1) -> dict[str, Any]:
    return tenant.place(lines=[MUG | {"quantity": mugs}, TEE | {"quantity": tees}])


def shipment(tenant: Tenant, order: dict[str, Any], **body: Any) -> dict[str, Any]:
    return tenant.ok(f"/v1/orders/{order['id']}/shipments", {"location": "BER", **body})


def pick_all(tenant: Tenant, shipped: dict[str, Any]) -> dict[str, Any]:
    lines = [{"line_no": line["line_no"], "picked": line["quantity"]} for line in shipped["lines"]]
    return tenant.ok(f"/v1/shipments/{shipped['id']}/pick", {"lines": lines}, 200)


def refused(tenant: Tenant, path: str, body: Any, status: int, code: str | None = None) -> Any:
    before = tenant.event_count()
    problem = assert_problem(tenant.post(path, body), status, code)
    assert tenant.event_count() == before
    return problem


# --- create ----------------------------------------------------------------------------------


def test_a_shipment_of_everything_allocated_at_a_location(seeded: Tenant) -> None:
    order = order_at_berlin(seeded)
    response = seeded.post(f"/v1/orders/{order['id']}/shipments", {"location": "BER"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert (body["status"], body["location"], body["priority"]) == ("created", "BER", "standard")
    assert [(x["sku"], x["quantity"]) for x in body["lines"]] == [("MUG", 3), ("TEE", 1)]
    assert seeded.get(f"/v1/shipments/{body['id']}").json() == body
    assert seeded.get(f"/v1/orders/{order['id']}").json()["shipments"][0]["stage"] == "open"


def test_a_shipment_never_exceeds_the_allocation(seeded: Tenant) -> None:
    order = order_at_berlin(seeded)
    path = f"/v1/orders/{order['id']}/shipments"
    body = {"location": "BER", "lines": [{"line_no": 1, "quantity": 4}]}
    refused(seeded, path, body, 409, "exceeds_allocation")
    shipment(seeded, order, lines=[{"line_no": 1, "quantity": 2}])
    refused(seeded, path, {"location": "BER", "lines": [{"line_no": 1, "quantity": 2}]}, 409)
    refused(seeded, path, {"location": "MUC"}, 409, "nothing_to_ship")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"location": "NOPE"}, 422, "unknown_location"),
        ({"location": "BER", "priority": "urgent"}, 422, "validation_failed"),
        ({"location": "BER", "lines": []}, 422, "validation_failed"),
        ({"location": "BER", "lines": [{"line_no": 9, "quantity": 1}]}, 422, "unknown_line"),
        ({"location": "BER", "lines": [{"line_no": 1, "quantity": 0}]}, 422, "validation_failed"),
        ({"location": "BER", "extra": 1}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
    ],
)
def test_bad_shipment_requests_are_refused(
    seeded: Tenant, body: dict[str, Any], status: int, code: str
) -> None:
    order = order_at_berlin(seeded)
    refused(seeded, f"/v1/orders/{order['id']}/shipments", body, status, code)


def test_another_tenants_order_and_shipment_are_not_found(seeded: Tenant, other: Tenant) -> None:
    order = order_at_berlin(seeded)
    sent = shipment(seeded, order)
    assert_problem(other.post(f"/v1/orders/{order['id']}/shipments", {"location": "BER"}), 404)
    assert_problem(other.get(f"/v1/shipments/{sent['id']}"), 404, "shipment_not_found")
    assert_problem(other.post(f"/v1/shipments/{sent['id']}/ship"), 404)


def test_a_held_order_is_not_fulfilled(seeded: Tenant) -> None:
    order = order_at_berlin(seeded)
    seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "fraud check"}, 200)
    refused(
        seeded, f"/v1/orders/{order['id']}/shipments", {"location": "BER"}, 409, "order_on_hold"
    )


# --- pick, cancel against picking ------------------------------------------------------------


def test_a_short_pick_releases_the_missing_units(seeded: Tenant, caught_up: Any) -> None:
    order = order_at_berlin(seeded)
    sent = shipment(seeded, order)
    body = seeded.ok(
        f"/v1/shipments/{sent['id']}/pick",
        {"lines": [{"line_no": 1, "picked": 2, "short": 1}, {"line_no": 2, "picked": 1}]},
        200,
    )
    assert body["status"] == "picked"
    assert [(x["picked"], x["short"]) for x in body["lines"]] == [(2, 1), (1, 0)]
    placed = seeded.get(f"/v1/orders/{order['id']}").json()
    assert placed["lines"][0]["backordered"] == 1
    caught_up()
    assert seeded.inventory(sku="MUG", location="BER")[("MUG", "BER")]["reserved"] == 2


def test_a_short_pick_can_be_rerouted_to_another_location(seeded: Tenant) -> None:
    order = order_at_berlin(seeded)
    sent = shipment(seeded, order)
    seeded.ok(
        f"/v1/shipments/{sent['id']}/pick",
        {"lines": [{"line_no": 1, "picked": 1, "short": 2}], "reroute_short": True},
        200,
    )
    line = seeded.get(f"/v1/orders/{order['id']}").json()["lines"][0]
    assert {a["location"]: a["quantity"] for a in line["allocations"]} == {"BER": 1, "MUC": 2}
    assert line["backordered"] == 0


@pytest.mark.parametrize(
    ("lines", "status", "code"),
    [
        ([{"line_no": 1, "picked": 4}], 422, "over_picked"),
        ([{"line_no": 7, "picked": 1}], 422, "unknown_line"),
        ([{"line_no": 1, "picked": 0}], 422, "invalid_command"),
        ([{"line_no": 1, "picked": -1}], 422, "validation_failed"),
    ],
)
def test_bad_picks_are_refused(seeded: Tenant, lines: Any, status: int, code: str) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    refused(seeded, f"/v1/shipments/{sent['id']}/pick", {"lines": lines}, status, code)


def test_a_pick_with_a_stale_if_match_is_412(seeded: Tenant) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    before = seeded.event_count()
    response = seeded.post(
        f"/v1/shipments/{sent['id']}/pick",
        {"lines": [{"line_no": 1, "picked": 1}]},
        headers={"If-Match": '"7"'},
    )
    assert_problem(response, 412, "precondition_failed")
    assert seeded.event_count() == before


def test_a_retried_pick_with_its_idempotency_key_picks_once(seeded: Tenant) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    body = {"lines": [{"line_no": 1, "picked": 1}]}
    key = {"Idempotency-Key": "pick-1"}
    first = seeded.post(f"/v1/shipments/{sent['id']}/pick", body, headers=key)
    again = seeded.post(f"/v1/shipments/{sent['id']}/pick", body, headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert seeded.get(f"/v1/shipments/{sent['id']}").json()["lines"][0]["picked"] == 1


def test_cancelling_a_line_after_picking_started_is_409(seeded: Tenant) -> None:
    order = order_at_berlin(seeded)
    sent = shipment(seeded, order)
    seeded.ok(f"/v1/shipments/{sent['id']}/pick", {"lines": [{"line_no": 1, "picked": 1}]}, 200)
    problem = refused(
        seeded,
        f"/v1/orders/{order['id']}/cancel",
        {"reason": "changed mind", "lines": [{"line_no": 1, "quantity": 1}]},
        409,
        "picking_started",
    )
    assert "being picked" in problem["detail"]


def test_cancelling_a_line_before_picking_releases_it_and_drops_it_from_the_shipment(
    seeded: Tenant, caught_up: Any
) -> None:
    order = order_at_berlin(seeded)
    sent = shipment(seeded, order)
    seeded.ok(
        f"/v1/orders/{order['id']}/cancel",
        {"reason": "changed mind", "lines": [{"line_no": 2, "quantity": 1}]},
        200,
    )
    after = seeded.get(f"/v1/shipments/{sent['id']}").json()
    assert [x["sku"] for x in after["lines"]] == ["MUG"]
    assert after["timeline"][-1]["status"] == "lines_dropped"
    caught_up()
    assert seeded.inventory(sku="TEE", location="BER")[("TEE", "BER")]["reserved"] == 0


# --- pack, rates, label, ship, deliver, track ------------------------------------------------


def test_packing_uses_the_smallest_fitting_box_when_no_parcels_are_given(seeded: Tenant) -> None:
    seeded.ok(
        "/v1/products",
        {
            "sku": "LAMP",
            "name": "Lamp",
            "weight_grams": 1200,
            "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 120},
            "prices": [{"store": "web", "amount": "40.00", "currency": "EUR"}],
        },
    )
    seeded.receive("BER", LAMP=2)
    order = seeded.place(lines=[{"sku": "LAMP", "quantity": 1, "unit_price": "40.00"}])
    sent = shipment(seeded, order)
    recommended = seeded.get(f"/v1/shipments/{sent['id']}/packing").json()
    assert [p["box"] for p in recommended["parcels"]] == ["M"]
    pick_all(seeded, sent)
    packed = seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    assert packed["parcels"][0]["weight_grams"] == 1200 + 250


def test_parcels_that_do_not_hold_the_picked_units_are_refused(seeded: Tenant) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    pick_all(seeded, sent)
    parcel = {
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 100,
        "weight_grams": 800,
        "lines": [{"line_no": 1, "quantity": 3}],
    }
    refused(
        seeded, f"/v1/shipments/{sent['id']}/pack", {"parcels": [parcel]}, 422, "packing_mismatch"
    )
    bad = parcel | {"weight_grams": 0}
    refused(
        seeded, f"/v1/shipments/{sent['id']}/pack", {"parcels": [bad]}, 422, "validation_failed"
    )


def test_rates_mark_the_cheapest_and_the_fastest_and_a_label_records_its_cost(
    seeded: Tenant,
) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    rates = seeded.get(f"/v1/shipments/{sent['id']}/rates").json()
    carriers = {q["carrier"] for q in rates["quotes"]}
    assert {"UPS", "DHL"} <= carriers
    assert "USPS" not in carriers  # USPS ships from the US only
    cheapest = [q for q in rates["quotes"] if q["cheapest"]]
    fastest = [q for q in rates["quotes"] if q["fastest"]]
    assert len(cheapest) == len(fastest) == 1
    prices = [Decimal(q["amount"]["amount"]) for q in rates["quotes"]]
    assert Decimal(cheapest[0]["amount"]["amount"]) == min(prices)
    assert fastest[0]["transit_days"] == min(q["transit_days"] for q in rates["quotes"])

    pick = cheapest[0]
    labelled = seeded.ok(
        f"/v1/shipments/{sent['id']}/label",
        {"carrier": pick["carrier"], "service": pick["service"]},
        200,
    )
    assert labelled["status"] == "labelled"
    assert labelled["label"]["cost"] == pick["amount"]
    document = seeded.get(f"/v1/shipments/{sent['id']}/label")
    assert document.status_code == 200
    assert document.text.startswith("^XA")
    assert labelled["label"]["tracking_number"] in document.text


def test_a_pdf_label_is_a_real_pdf_showing_the_tracking_number(seeded: Tenant) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    path = f"/v1/shipments/{sent['id']}/label"
    refused(seeded, path, {"carrier": "DHL", "service": "parcel", "format": "png"}, 422)
    service = seeded.get(f"/v1/shipments/{sent['id']}/rates").json()["quotes"][0]
    body = {"carrier": service["carrier"], "service": service["service"], "format": "pdf"}
    tracking = seeded.ok(path, body, 200)["label"]["tracking_number"]

    document = seeded.get(path)
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert f'filename="{tracking}.pdf"' in document.headers["content-disposition"]
    pdf = PdfReader(io.BytesIO(document.content))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert tracking in text
    assert "Ada Lovelace" in text


def test_an_unknown_carrier_service_is_refused(seeded: Tenant) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    body = {"carrier": "UPS", "service": "teleport"}
    refused(seeded, f"/v1/shipments/{sent['id']}/label", body, 422, "invalid_command")
    assert_problem(seeded.get(f"/v1/shipments/{sent['id']}/label"), 404, "no_label")


def test_a_shipment_ships_only_once_packed(seeded: Tenant, caught_up: Any) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    refused(seeded, f"/v1/shipments/{sent['id']}/ship", None, 409, "wrong_shipment_status")
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    shipped = seeded.ok(f"/v1/shipments/{sent['id']}/ship", None, 200)
    assert shipped["status"] == "shipped"
    refused(seeded, f"/v1/shipments/{sent['id']}/ship", None, 409, "wrong_shipment_status")
    caught_up()
    level = seeded.inventory(sku="MUG", location="BER")[("MUG", "BER")]
    assert (level["on_hand"], level["reserved"], level["shipped"]) == (7, 0, 3)


def test_tracking_updates_exceptions_and_delivery(seeded: Tenant) -> None:
    sent = shipment(seeded, order_at_berlin(seeded))
    path = f"/v1/shipments/{sent['id']}/tracking-events"
    refused(seeded, path, {"status": "in_transit", "description": "x"}, 409)
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    seeded.ok(f"/v1/shipments/{sent['id']}/ship", None, 200)
    seeded.ok(path, {"status": "in_transit", "description": "hub scan", "place": "Leipzig"})
    body = seeded.ok(path, {"status": "exception", "description": "address unclear"})
    assert body["exceptions"] == 1
    refused(seeded, path, {"status": "lost", "description": "x"}, 422, "validation_failed")
    delivered_at = datetime(2030, 1, 1, tzinfo=UTC).isoformat()
    body = seeded.ok(f"/v1/shipments/{sent['id']}/deliver", {"delivered_at": delivered_at}, 200)
    assert body["status"] == "delivered"
    assert [s["status"] for s in body["timeline"]][-3:] == ["in_transit", "exception", "delivered"]


# --- read models -----------------------------------------------------------------------------


def test_a_pick_list_walks_the_bins_expedited_first_with_totals(
    seeded: Tenant, caught_up: Any
) -> None:
    seeded.ok("/v1/stock/settings", {"location": "BER", "sku": "TEE", "bin": "A-01"}, 200)
    seeded.ok("/v1/stock/settings", {"location": "BER", "sku": "MUG", "bin": "B-07"}, 200)
    first = shipment(seeded, order_at_berlin(seeded, mugs=2, tees=1))
    second = shipment(seeded, order_at_berlin(seeded, mugs=1, tees=1), priority="expedited")
    caught_up()
    body = seeded.get("/v1/pick-lists", params={"location": "BER"}).json()
    assert [s["id"] for s in body["shipments"]] == [second["id"], first["id"]]
    assert [(p["bin"], p["sku"], p["quantity"], p["priority"]) for p in body["picks"]] == [
        ("A-01", "TEE", 1, "expedited"),
        ("A-01", "TEE", 1, "standard"),
        ("B-07", "MUG", 1, "expedited"),
        ("B-07", "MUG", 2, "standard"),
    ]
    assert body["totals"] == [
        {"sku": "TEE", "bin": "A-01", "quantity": 2},
        {"sku": "MUG", "bin": "B-07", "quantity": 3},
    ]
    assert body["next_wave"] is None
    small = seeded.get("/v1/pick-lists", params={"location": "BER", "wave_size": 1}).json()
    assert (len(small["shipments"]), small["next_wave"]) == (1, 2)
    work = seeded.get("/v1/pick-work").json()
    assert work[0]["location"] == "BER"
    assert (work[0]["open_shipments"], work[0]["expedited"], work[0]["units"]) == (2, 1, 5)


def test_the_shipments_list_filters_and_pages(seeded: Tenant, caught_up: Any) -> None:
    order = order_at_berlin(seeded)
    shipment(seeded, order, lines=[{"line_no": 1, "quantity": 1}])
    shipment(seeded, order, lines=[{"line_no": 2, "quantity": 1}])
    caught_up()
    page = seeded.get("/v1/shipments", params={"limit": 1}).json()
    assert len(page["items"]) == 1
    rest = seeded.get("/v1/shipments", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] != page["items"][0]["id"]
    created = seeded.get("/v1/shipments", params={"status": "created"}).json()["items"]
    assert len(created) == 2
    assert_problem(seeded.get("/v1/shipments", params={"status": "lost"}), 400, "invalid_status")
    assert_problem(seeded.get("/v1/shipments", params={"cursor": "zzz"}), 400, "invalid_cursor")


# --- returns ---------------------------------------------------------------------------------


def shipped_order(tenant: Tenant) -> dict[str, Any]:
    order = order_at_berlin(tenant)
    sent = shipment(tenant, order)
    pick_all(tenant, sent)
    tenant.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    tenant.ok(f"/v1/shipments/{sent['id']}/ship", None, 200)
    return order


def test_returns_are_only_for_shipped_units(seeded: Tenant) -> None:
    order = order_at_berlin(seeded)
    path = f"/v1/orders/{order['id']}/returns"
    line = {"sku": "MUG", "quantity": 1, "reason": "defective"}
    refused(seeded, path, {"lines": [line]}, 409, "not_returnable")
    shipped = shipped_order(seeded)
    path = f"/v1/orders/{shipped['id']}/returns"
    refused(seeded, path, {"lines": [line | {"quantity": 4}]}, 409, "not_returnable")
    refused(seeded, path, {"lines": [line | {"reason": "meh"}]}, 422, "validation_failed")
    refused(seeded, path, {"lines": []}, 422, "validation_failed")
    rma = seeded.ok(path, {"lines": [line]})
    assert rma["lines"][0]["category"] == "product_quality"


def test_a_received_return_restocks_sellable_and_writes_off_damaged_units(
    seeded: Tenant, caught_up: Any
) -> None:
    order = shipped_order(seeded)
    rma = seeded.ok(
        f"/v1/orders/{order['id']}/returns",
        {"lines": [{"sku": "MUG", "quantity": 2, "reason": "damaged_in_transit"}]},
    )
    path = f"/v1/returns/{rma['id']}/receive"
    sellable = {"sku": "MUG", "quantity": 1, "condition": "sellable"}
    damaged = {"sku": "MUG", "quantity": 1, "condition": "damaged"}
    refused(seeded, path, {"location": "NOPE", "lines": [sellable]}, 422, "unknown_location")
    refused(seeded, path, {"location": "BER", "lines": [sellable | {"quantity": 3}]}, 422)
    refused(seeded, path, {"location": "BER", "lines": [sellable | {"condition": "meh"}]}, 422)
    body = seeded.ok(path, {"location": "BER", "lines": [sellable, damaged]}, 200)
    assert body["status"] == "received"
    refused(seeded, path, {"location": "BER", "lines": [sellable]}, 409, "return_already_received")
    caught_up()
    level = seeded.inventory(sku="MUG", location="BER")[("MUG", "BER")]
    assert (level["on_hand"], level["restocked"]) == (10 - 3 + 1, 2)
    assert seeded.get(f"/v1/returns/{rma['id']}").json() == body


# --- stock settings, LowStock, confirmation, expiry ------------------------------------------


def test_stock_settings_set_the_bin_and_safety_stock(seeded: Tenant, caught_up: Any) -> None:
    body = seeded.ok(
        "/v1/stock/settings",
        {"location": "BER", "sku": "MUG", "bin": "C-3", "reorder_point": 6, "safety_stock": 2},
        200,
    )
    assert (body["bin"], body["available"]) == ("C-3", 8)
    seeded.place(lines=[MUG | {"quantity": 3}])
    caught_up()
    level = seeded.inventory(sku="MUG", location="BER")[("MUG", "BER")]
    assert (level["available"], level["safety_stock"], level["bin"]) == (5, 2, "C-3")
    with seeded.container.datastore.transaction() as curs:
        curs.execute("SELECT count(*) AS n FROM kontor_events WHERE topic = 'stock.LowStock'")
        assert curs.fetchone()["n"] >= 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"location": "BER", "sku": "NOPE", "bin": "A"}, 422),
        ({"location": "NOPE", "sku": "MUG", "bin": "A"}, 422),
        ({"location": "BER", "sku": "MUG", "safety_stock": -1}, 422),
        ({"location": "BER", "sku": "MUG", "bin": ""}, 422),
    ],
)
def test_bad_stock_settings_are_refused(seeded: Tenant, body: Any, status: int) -> None:
    refused(seeded, "/v1/stock/settings", body, status)


def test_unconfirmed_orders_past_the_ttl_expire_once(seeded: Tenant, caught_up: Any) -> None:
    seeded.ok(
        "/v1/stores",
        {"code": "flash", "name": "Flash sale", "currency": "EUR", "reservation_ttl_minutes": 15},
    )
    seeded.product("GIFT", price="5.00")
    prices = [{"store": "flash", "amount": "5.00", "currency": "EUR"}]
    seeded.ok("/v1/products", {"sku": "BOX", "name": "Box", "prices": prices})
    seeded.receive("BER", BOX=4)
    box = {"sku": "BOX", "quantity": 2, "unit_price": "5.00"}
    unpaid = seeded.place(store="flash", lines=[box])
    paid = seeded.place(store="flash", lines=[box])
    seeded.ok(f"/v1/orders/{paid['id']}/confirm", None, 200)
    caught_up()

    expiry = seeded.container.expiry
    assert expiry.run_once(datetime.now(UTC) + timedelta(minutes=10)) == 0
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert expiry.run_once(later) == 1
    caught_up()
    assert expiry.run_once(later) == 0  # safe to run twice

    assert seeded.get(f"/v1/orders/{unpaid['id']}").json()["status"] == "expired"
    assert seeded.get(f"/v1/orders/{paid['id']}").json()["status"] == "allocated"
    level = seeded.inventory(sku="BOX", location="BER")[("BOX", "BER")]
    assert (level["reserved"], level["available"]) == (2, 2)
    refused(seeded, f"/v1/orders/{unpaid['id']}/confirm", None, 409, "order_cancelled")
