"""Fulfilment from the dashboard: a shipment created on the order page, then picked from the
printable pick list, packed into the recommended box, labelled at a quoted rate and shipped;
then a return authorised and received."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from projections.runner import wait_until_caught_up
from tests.api.conftest import Tenant
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls


def test_an_order_goes_through_pick_pack_label_and_ship(sign_in: Any, seeded: Tenant) -> None:
    order = seeded.place()
    page = sign_in("operations")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/dashboard/orders/{order['id']}")
    page.locator("summary", has_text="Create shipment").click()
    page.get_by_role("button", name="Create shipment").click()
    shipment_link = page.locator("[data-shipment] a")
    expect(shipment_link).to_contain_text("BER · open")

    page.goto("/dashboard/fulfilment")
    expect(page.locator('#pick-work [data-location="BER"]')).to_contain_text("1 shipments")
    screenshots(page, "fulfilment")
    assert not axe_violations(page)
    page.get_by_role("link", name="Pick list for BER").click()
    expect(page.locator('#picks [data-pick="MUG"]')).to_contain_text("2")
    screenshots(page, "pick-list")
    page.emulate_media(media="print")
    expect(page.locator(".main-nav")).to_be_hidden()
    page.emulate_media(media="screen")
    page.locator('#picks [data-pick="MUG"] a').click()

    expect(page.locator("#shipment-status")).to_have_text("created")
    assert not unlabelled_controls(page)
    page.get_by_role("button", name="Confirm pick").click()
    expect(page.locator("#shipment-status")).to_have_text("picked")
    expect(page.locator("#recommended-boxes li")).to_have_count(1)
    page.get_by_role("button", name="Pack into the recommended boxes").click()
    expect(page.locator("#shipment-status")).to_have_text("packed")
    screenshots(page, "shipment-rates")
    assert not axe_violations(page)

    cheapest = page.locator("#rates tr", has=page.locator(".badge", has_text="cheapest")).first
    cheapest.get_by_role("button", name=re.compile("^Buy ")).click()
    expect(page.locator("#shipment-status")).to_have_text("labelled")
    expect(page.locator("#tracking-number")).not_to_be_empty()
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.locator("#shipment-status")).to_have_text("shipped")

    # The shipment page and the inventory levels are separate projections: wait for both.
    wait_until_caught_up(seeded.container.datastore, timeout=20)
    assert seeded.inventory()[("MUG", "BER")]["on_hand"] == 8
    shipped = seeded.get(f"/v1/orders/{order['id']}").json()
    assert shipped["status"] == "shipped"


def test_a_return_is_authorised_on_the_shipment_and_received_into_stock(
    sign_in: Any, seeded: Tenant
) -> None:
    order = seeded.place()
    shipment = seeded.ok(f"/v1/orders/{order['id']}/shipments", {"location": "BER"})
    seeded.ok(f"/v1/shipments/{shipment['id']}/pick", {"lines": [{"line_no": 1, "picked": 2}]}, 200)
    seeded.ok(f"/v1/shipments/{shipment['id']}/pack", {}, 200)
    seeded.ok(f"/v1/shipments/{shipment['id']}/ship", None, 200)

    page = sign_in("operations")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/dashboard/fulfilment/shipments/{shipment['id']}")
    page.get_by_label("MUG quantity").fill("1")
    page.get_by_label("MUG reason").select_option("defective")
    page.get_by_role("button", name="Authorise return").click()

    expect(page).to_have_url(re.compile(r"/dashboard/fulfilment$"))
    rma = page.locator("#returns [data-return]")
    expect(rma).to_contain_text("MUG")  # live, if the page was read before the return
    # A live refresh swapping the list while the form below is filled in closes it again: once
    # every projection has the return (so that no refresh is still on its way), read the page
    # afresh.
    wait_until_caught_up(seeded.container.datastore, timeout=20)
    page.reload()
    expect(rma).to_contain_text("MUG")
    rma.locator("summary").click()
    rma.get_by_label("MUG condition").select_option("sellable")
    rma.get_by_role("button", name="Receive").click()
    expect(page.locator("#returns")).to_contain_text("No return is waiting")
    wait_until_caught_up(seeded.container.datastore, timeout=20)
    assert seeded.inventory()[("MUG", "BER")]["on_hand"] == 9
