"""End to end over the REST API: place -> ship in two shipments from two locations -> deliver ->
return one unit -> restock; the inventory and order views agree with the events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.kinds import ORDER, STOCK
from application.streams import Loaded
from domain.shared.ids import stock_stream_id
from tests.api.conftest import Tenant

MUG = {"sku": "MUG", "unit_price": "9.90"}
TEE = {"sku": "TEE", "unit_price": "19.00"}


def ship_everything(tenant: Tenant, order_id: str, location: str, **label: str) -> dict[str, Any]:
    shipment = tenant.ok(f"/v1/orders/{order_id}/shipments", {"location": location})
    sid = shipment["id"]
    picks = [{"line_no": line["line_no"], "picked": line["quantity"]} for line in shipment["lines"]]
    tenant.ok(f"/v1/shipments/{sid}/pick", {"lines": picks}, 200)
    tenant.ok(f"/v1/shipments/{sid}/pack", {}, 200)
    if label:
        tenant.ok(f"/v1/shipments/{sid}/label", label, 200)
    return tenant.ok(f"/v1/shipments/{sid}/ship", None, 200)


def test_place_ship_from_two_locations_deliver_return_and_restock(
    seeded: Tenant, caught_up: Any
) -> None:
    order = seeded.place(lines=[MUG | {"quantity": 12}, TEE | {"quantity": 1}])
    order_id = order["id"]
    assert {a["location"]: a["quantity"] for a in order["lines"][0]["allocations"]} == {
        "BER": 10,
        "MUC": 2,
    }

    berlin = ship_everything(seeded, order_id, "BER", carrier="UPS", service="standard")
    assert berlin["status"] == "shipped"
    assert berlin["label"]["tracking_number"].startswith("1Z")
    partly = seeded.get(f"/v1/orders/{order_id}").json()
    assert partly["status"] == "partially_shipped"
    assert [line["shipped"] for line in partly["lines"]] == [10, 1]

    munich = ship_everything(seeded, order_id, "MUC")
    assert [(line["sku"], line["picked"]) for line in munich["lines"]] == [("MUG", 2)]
    assert seeded.get(f"/v1/orders/{order_id}").json()["status"] == "shipped"

    seeded.ok(f"/v1/shipments/{berlin['id']}/deliver", None, 200)
    seeded.ok(
        f"/v1/shipments/{munich['id']}/tracking-events",
        {"status": "delivered", "description": "left at the door"},
    )
    delivered = seeded.get(f"/v1/orders/{order_id}").json()
    assert delivered["status"] == "delivered"

    rma = seeded.ok(
        f"/v1/orders/{order_id}/returns",
        {"lines": [{"sku": "MUG", "quantity": 1, "reason": "changed_mind"}]},
    )
    assert rma["lines"] == [
        {
            "line_no": 1,
            "sku": "MUG",
            "quantity": 1,
            "reason": "changed_mind",
            "category": "customer_preference",
        }
    ]
    received = seeded.ok(
        f"/v1/returns/{rma['id']}/receive",
        {"location": "BER", "lines": [{"sku": "MUG", "quantity": 1, "condition": "sellable"}]},
        200,
    )
    assert received["status"] == "received"

    caught_up()
    levels = seeded.inventory(sku="MUG")
    assert (levels[("MUG", "BER")]["on_hand"], levels[("MUG", "BER")]["reserved"]) == (1, 0)
    assert (levels[("MUG", "MUC")]["on_hand"], levels[("MUG", "MUC")]["reserved"]) == (3, 0)
    assert levels[("MUG", "BER")]["shipped"] == 10
    assert levels[("MUG", "BER")]["restocked"] == 1
    assert levels[("MUG", "MUC")]["shipped"] == 2

    # The views agree with the events: fold every stream from the store and compare.
    tenant_id = seeded.tenant_id
    container = seeded.container
    for (sku, location), level in seeded.inventory().items():
        stream = stock_stream_id(tenant_id, sku, location)
        recorded = container.store.load({stream: 0})[stream]
        folded = container.streams.apply(STOCK, Loaded(STOCK.initial, 0, None), recorded).state
        assert (level["on_hand"], level["reserved"], level["shipped"], level["restocked"]) == (
            folded.on_hand,
            folded.reserved,
            folded.shipped,
            folded.restocked,
        )
        assert folded.on_hand == (
            folded.received
            + folded.adjusted
            + folded.transferred_in
            - folded.transferred_out
            - folded.shipped
            + folded.restocked
        )
    order_events = container.store.load({UUID(order_id): 0})[UUID(order_id)]
    folded_order = container.streams.apply(
        ORDER, Loaded(ORDER.initial, 0, None), order_events
    ).state
    listed = seeded.get("/v1/orders", params={"status": "delivered"}).json()["items"]
    assert [(item["id"], item["version"]) for item in listed] == [(order_id, len(order_events))]
    assert folded_order.status == "delivered"
    assert {no: line.returned for no, line in folded_order.lines.items()} == {1: 1, 2: 0}

    shipments = seeded.get("/v1/shipments", params={"order_id": order_id}).json()["items"]
    assert sorted((s["location"], s["status"]) for s in shipments) == [
        ("BER", "delivered"),
        ("MUC", "delivered"),
    ]
    times = seeded.get("/v1/fulfilment-times").json()
    assert times["placed_to_shipped"]["count"] == 2
    assert times["shipped_to_delivered"]["count"] == 2
