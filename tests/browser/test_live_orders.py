"""Orders placed through the API appear on open dashboard pages within 2 seconds, without a
reload; the pages keep working across a lost connection."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.api.conftest import Tenant
from tests.browser.conftest import LIVE_SECONDS, axe_violations, screenshots, unlabelled_controls

LIVE_MS = LIVE_SECONDS * 1000


def test_an_order_placed_through_the_api_appears_live_on_home(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("owner")
    page.goto("/dashboard")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator("#order-feed")).to_contain_text("No orders yet")

    order = seeded.place(name="Grace Hopper")

    row = page.locator(f'#order-feed [data-order-id="{order["id"]}"]')
    expect(row).to_contain_text("Grace Hopper", timeout=LIVE_MS)
    expect(page.locator('[data-figure="Orders"] .figure-value')).to_have_text("1", timeout=LIVE_MS)
    screenshots(page, "home")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)


def test_an_order_placed_through_the_api_appears_live_on_the_orders_list(
    sign_in: Any, seeded: Tenant
) -> None:
    seeded.place(name="Ada Lovelace")
    page = sign_in("operations")
    page.goto("/dashboard/orders")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator("#order-rows tr")).to_have_count(1)

    order = seeded.place(name="Katherine Johnson")

    expect(page.locator(f'#order-rows [data-order-id="{order["id"]}"]')).to_contain_text(
        "Katherine Johnson", timeout=LIVE_MS
    )
    expect(page.locator("#order-rows tr")).to_have_count(2)
    screenshots(page, "orders")
    assert not axe_violations(page)
