"""Role-aware navigation over the Finance, Analytics, Audit and Settings pages: an analyst and a
finance user see only their pages and sections, and everything shown opens."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.api.conftest import Tenant


def _shown(page: Page, selector: str, attribute: str) -> list[str]:
    found: list[str] = page.locator(selector).evaluate_all(
        f"links => links.map(link => link.dataset.{attribute})"
    )
    return found


def _every_link_opens(page: Page, selector: str) -> None:
    for href in page.locator(selector).evaluate_all("links => links.map(l => l.pathname)"):
        response = page.goto(href)
        assert response is not None
        assert response.status == 200, f"{href}: {response.status}"


def test_an_analyst_reads_finance_and_analytics_but_changes_nothing(
    sign_in: Any, seeded: Tenant
) -> None:
    page = sign_in("analyst")
    page.goto("/dashboard")
    nav = _shown(page, "nav[aria-label=Main] a", "nav")
    assert nav == [
        "home", "orders", "inventory", "fulfilment", "finance", "analytics", "settings",
    ]  # fmt: skip
    page.goto("/dashboard/finance")
    expect(page.locator("form[data-upload]")).to_have_count(0)
    expect(page.get_by_role("link", name="Export invoices (CSV)")).to_be_visible()
    page.goto("/dashboard/settings")
    assert _shown(page, "[data-section]", "section") == ["general", "billing", "shipping"]
    expect(page.locator("form[data-api]")).to_have_count(0)
    _every_link_opens(page, "[data-section]")
    for path in ("/dashboard/audit", "/dashboard/settings/api-keys"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403


def test_a_finance_user_may_upload_payouts_and_set_tax_but_not_audit(
    sign_in: Any, seeded: Tenant
) -> None:
    page = sign_in("finance")
    page.goto("/dashboard/finance")
    assert "audit" not in _shown(page, "nav[aria-label=Main] a", "nav")
    expect(page.locator("form[data-upload]")).to_have_count(1)
    page.goto("/dashboard/settings/billing")
    expect(page.locator("summary", has_text="Set a tax rate")).to_be_visible()
    expect(page.locator("summary", has_text="Set a store's invoicing policy")).to_be_visible()
    _every_link_opens(page, "nav[aria-label=Main] a")


def test_an_auditor_sees_the_audit_page(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("auditor")
    page.goto("/dashboard")
    assert "audit" in _shown(page, "nav[aria-label=Main] a", "nav")
    page.locator('[data-nav="audit"]').click()
    expect(page.get_by_role("heading", name="Audit", exact=True)).to_be_visible()


def test_every_new_page_fits_a_360_px_screen(sign_in: Any, seeded: Tenant) -> None:
    """Wide tables scroll inside their wrapper; nothing widens the page itself."""
    page = sign_in("owner")
    page.set_viewport_size({"width": 360, "height": 800})
    paths = [
        "/dashboard/finance",
        "/dashboard/analytics",
        "/dashboard/audit",
        *(f"/dashboard/settings/{s}" for s in ("billing", "shipping", "users", "api-keys")),
        "/dashboard/settings/webhooks",
        "/dashboard/settings",
    ]
    for path in paths:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
