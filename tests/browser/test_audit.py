"""Audit: the latest changes, a record's history, the state-as-of slider and verification."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from interfaces.bootstrap import Container
from projections.runner import wait_until_caught_up
from tests.api.conftest import Tenant
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls


def test_the_slider_shows_earlier_states_and_verify_proves_the_chain(
    sign_in: Any, seeded: Tenant, container: Container
) -> None:
    order = seeded.place()
    seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "fraud check"}, status=200)
    wait_until_caught_up(container.datastore, timeout=20)
    page = sign_in("auditor")
    page.goto("/dashboard/audit")
    screenshots(page, "audit")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)
    page.locator("tbody a", has_text="order").first.click()

    latest = int(page.locator("#as-of").get_attribute("max") or 0)
    assert latest >= 2
    expect(page.locator("#state")).to_contain_text("fraud check")
    expect(page.locator(f'[data-version="{latest}"]')).to_contain_text("order.OrderHeld")
    screenshots(page, "audit-record")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)

    page.locator("#as-of").focus()
    page.keyboard.press("ArrowLeft")  # one version back: before the hold
    expect(page.locator("#state")).to_have_attribute("data-state-version", str(latest - 1))
    expect(page.locator("#state")).not_to_contain_text("fraud check")
    page.keyboard.press("Home")
    expect(page.locator("#state")).to_contain_text("Version 0 (before the first event)")

    page.get_by_role("button", name="Verify this record").click()
    verdict = page.locator("#verify-result [data-verified]")
    expect(verdict).to_have_attribute("data-verified", "ok")
    expect(verdict).to_contain_text(f"{latest} events in 1 streams")


def test_an_unknown_record_is_not_found_on_the_page(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("auditor")
    page.goto("/dashboard/audit")
    page.get_by_label("Id", exact=True).fill("00000000-0000-4000-8000-000000000000")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
