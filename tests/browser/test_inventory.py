"""Inventory: levels, low stock, and receiving, counting and moving stock from the page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.api.conftest import Tenant
from tests.browser.conftest import LIVE_SECONDS, axe_violations, screenshots, unlabelled_controls


def test_receive_adjust_and_transfer_from_the_inventory_page(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("operations")
    page.goto("/dashboard/inventory")
    expect(page.locator('[data-stock="MUG@BER"] td').nth(2)).to_have_text("10")
    screenshots(page, "inventory")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)
    page.on("dialog", lambda dialog: dialog.accept())

    page.locator("summary", has_text="Receive stock").click()
    page.locator("#receive-location").select_option("BER")
    page.locator("#receive-sku").fill("MUG")
    page.locator("#receive-quantity").fill("5")
    page.get_by_role("button", name="Receive", exact=True).click()
    expect(page.locator('[data-stock="MUG@BER"] td').nth(2)).to_have_text("15")

    page.locator("summary", has_text="Adjust").click()
    page.locator("#adjust-location").select_option("BER")
    page.locator("#adjust-sku").fill("MUG")
    page.locator("#adjust-counted").fill("12")
    page.get_by_role("button", name="Adjust", exact=True).click()
    expect(page.locator('[data-stock="MUG@BER"] td').nth(2)).to_have_text("12")

    page.locator("summary", has_text="Transfer").click()
    page.locator("#transfer-from").select_option("BER")
    page.locator("#transfer-to").select_option("MUC")
    page.locator("#transfer-sku").fill("MUG")
    page.locator("#transfer-quantity").fill("50")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.locator("form[data-api$='/transfers'] [role=alert]")).not_to_be_empty()
    page.locator("#transfer-quantity").fill("2")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.locator('[data-stock="MUG@MUC"] td').nth(2)).to_have_text("7")
    expect(page.locator('[data-stock="MUG@BER"] td').nth(2)).to_have_text("10")


def test_stock_falling_to_its_reorder_point_raises_a_live_low_stock_alert(
    sign_in: Any, seeded: Tenant
) -> None:
    seeded.ok(
        "/v1/stock/settings",
        {"sku": "TEE", "location": "BER", "reorder_point": 2, "safety_stock": 0},
        status=200,
    )
    page = sign_in("owner")
    page.goto("/dashboard")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator('[data-alert="low-stock"]')).to_have_count(0)

    seeded.place(lines=[{"sku": "TEE", "quantity": 2, "unit_price": "19.00"}])

    alert = page.locator('[data-alert="low-stock"]')
    expect(alert).to_contain_text("TEE at BER: 1 available", timeout=LIVE_SECONDS * 1000)
    alert.get_by_role("link", name="Inventory").click()
    page.goto("/dashboard/inventory?low=true")
    expect(page.locator("#stock-rows tr")).to_have_count(1)
    expect(page.locator('[data-stock="TEE@BER"]')).to_have_attribute("data-low", "")
