"""The order page: what it shows, and its actions through the REST API with confirmation and
clear errors."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Dialog, expect

from projections.runner import wait_until_caught_up
from tests.api.conftest import Tenant
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls


def test_cancelling_a_line_from_the_order_page_releases_its_stock(
    sign_in: Any, seeded: Tenant
) -> None:
    order = seeded.place(
        lines=[
            {"sku": "MUG", "quantity": 2, "unit_price": "9.90"},
            {"sku": "TEE", "quantity": 1, "unit_price": "19.00"},
        ]
    )
    page = sign_in("operations")
    page.goto(f"/dashboard/orders/{order['id']}")
    expect(page.locator('[data-line="2"]')).to_contain_text("TEE")
    expect(page.locator('[data-event="order.OrderPlaced"]')).to_be_visible()
    screenshots(page, "order-detail")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)

    confirmations: list[str] = []

    def confirm(dialog: Dialog) -> None:
        confirmations.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    cancel = page.locator('[data-cancel-line="2"]')
    cancel.locator("summary").click()
    cancel.get_by_label("Reason").fill("customer changed their mind")
    cancel.get_by_role("button", name="Cancel units").click()

    expect(page.locator('[data-line="2"] td').nth(3)).to_have_text("1")  # cancelled
    assert confirmations == ["Cancel these units of line 2? Their stock is released."]
    expect(page.locator('[data-event="order.OrderLinesCancelled"]')).to_be_visible()
    wait_until_caught_up(seeded.container.datastore, timeout=20)  # the inventory projection
    assert seeded.inventory()[("TEE", "BER")]["reserved"] == 0


def test_a_refused_action_says_why_and_changes_nothing(sign_in: Any, seeded: Tenant) -> None:
    order = seeded.place()
    page = sign_in("operations")
    page.goto(f"/dashboard/orders/{order['id']}")
    seeded.post(f"/v1/orders/{order['id']}/hold", {"reason": "fraud check"})  # page now stale

    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("summary", has_text="Hold").click()
    page.get_by_label("Reason").first.fill("again")
    page.get_by_role("button", name="Hold order").click()

    alert = page.locator("form[data-api$='/hold'] [role=alert]")
    expect(alert).to_contain_text("version")
    before = seeded.event_count()
    page.reload()
    expect(page.get_by_role("button", name="Release hold")).to_be_visible()
    assert seeded.event_count() == before


def test_declining_the_confirmation_sends_nothing(sign_in: Any, seeded: Tenant) -> None:
    order = seeded.place()
    before = seeded.event_count()
    page = sign_in("operations")
    page.goto(f"/dashboard/orders/{order['id']}")
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.locator("summary", has_text="Cancel the whole order").click()
    page.locator("#cancel-reason").fill("no")
    page.get_by_role("button", name="Cancel order").click()
    page.wait_for_timeout(300)
    assert seeded.event_count() == before


def test_the_orders_list_filters_searches_and_pages(sign_in: Any, seeded: Tenant) -> None:
    seeded.receive("BER", MUG=100)
    for number in range(27):
        seeded.place(
            name=f"Customer {number:02d}",
            email=f"c{number}@example.com",
            lines=[{"sku": "MUG", "quantity": 1, "unit_price": "9.90"}],
        )
    page = sign_in("analyst")
    page.goto("/dashboard/orders")
    expect(page.locator("#order-rows tr")).to_have_count(25)
    page.get_by_role("link", name="Older orders").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody")).to_contain_text("Customer 00")

    page.goto("/dashboard/orders")
    page.get_by_label("Search").fill("Customer 13")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#order-rows tr")).to_have_count(1)
    expect(page.locator("#order-rows")).to_contain_text("c13@example.com")
