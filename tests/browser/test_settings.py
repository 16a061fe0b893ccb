"""Settings: every section an owner may open, API keys shown once and listed, and sections
shown by role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.conftest import Tenant
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls

SECTIONS = ("general", "billing", "shipping", "users", "api-keys", "webhooks")


def test_an_api_key_is_shown_once_and_listed(
    sign_in: Any, seeded: Tenant, api: httpx.Client
) -> None:
    page = sign_in("owner")
    page.goto("/dashboard/settings/api-keys")
    form = page.locator("form[data-reveal]")
    form.get_by_label("Name").fill("")
    form.get_by_role("button", name="Create key").click()
    expect(form.locator("[data-revealed]")).to_be_hidden()
    assert page.evaluate("document.querySelector('#key-name').validity.valueMissing")

    form.get_by_label("Name").fill("warehouse scanner")
    form.get_by_label("operations").check()
    form.get_by_role("button", name="Create key").click()
    shown = form.locator("[data-secret]")
    expect(shown).to_contain_text("kontor_")
    expect(page.locator('[data-key="warehouse scanner"]')).to_contain_text("operations")
    key = shown.inner_text()
    answer = api.get("/v1/inventory", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text

    page.reload()
    expect(page.locator('[data-key="warehouse scanner"]')).to_contain_text("active")
    assert key not in page.content()


def test_a_key_without_roles_is_refused_with_a_clear_message(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("owner")
    page.goto("/dashboard/settings/api-keys")
    form = page.locator("form[data-reveal]")
    form.get_by_label("Name").fill("no roles")
    form.get_by_role("button", name="Create key").click()
    expect(form.locator("[role=alert]")).not_to_be_empty()
    expect(page.locator('[data-key="no roles"]')).to_have_count(0)


@pytest.mark.parametrize("section", SECTIONS)
def test_each_settings_section_opens_for_an_owner(
    sign_in: Any, seeded: Tenant, section: str
) -> None:
    page = sign_in("owner")
    page.goto("/dashboard/settings")
    page.locator(f'[data-section="{section}"]').click()
    expect(page.locator(f'[data-section="{section}"]')).to_have_attribute("aria-current", "page")
    screenshots(page, f"settings-{section}")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)


def test_a_finance_user_sees_and_may_change_only_its_settings(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("finance")
    page.goto("/dashboard/settings")
    shown = page.locator("[data-section]").evaluate_all("ls => ls.map(l => l.dataset.section)")
    assert shown == ["general", "billing", "shipping"]
    expect(page.locator("form[data-api]")).to_have_count(0)  # catalog:write is not theirs
    page.goto("/dashboard/settings/billing")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("summary", has_text="Set a tax rate").click()
    page.get_by_label("Country").fill("DE")
    page.get_by_label("Rate (fraction").fill("1.5")
    page.get_by_role("button", name="Save rate").click()
    expect(page.locator("form[data-api$='/tax-rates'] [role=alert]")).to_contain_text("0 to 1")
    page.get_by_label("Rate (fraction").fill("0.19")
    page.get_by_role("button", name="Save rate").click()
    expect(page.locator('[data-tax="DE"]')).to_contain_text("19")
    response = page.goto("/dashboard/settings/api-keys")
    assert response is not None
    assert response.status == 403


def test_a_webhook_endpoint_shows_its_secret_once_and_is_listed(
    sign_in: Any, seeded: Tenant
) -> None:
    page = sign_in("owner")
    page.goto("/dashboard/settings/webhooks")
    form = page.locator("form[data-reveal]")
    form.get_by_label("URL").fill("https://hooks.example.com/kontor")
    form.get_by_label("Event types").fill('["nothing.Happened"]')
    form.get_by_role("button", name="Register endpoint").click()
    expect(form.locator("[role=alert]")).to_contain_text("unknown event type")
    expect(form.locator("[data-revealed]")).to_be_hidden()

    form.get_by_label("Event types").fill('["order.*"]')
    form.get_by_role("button", name="Register endpoint").click()
    expect(form.locator("[data-secret]")).to_contain_text("whsec_")
    row = page.locator('[data-endpoint="https://hooks.example.com/kontor"]')
    expect(row).to_contain_text("order.*")
    secret = form.locator("[data-secret]").inner_text()
    page.reload()
    expect(row).to_be_visible()
    assert secret not in page.content()


def test_an_owner_changes_a_users_roles_and_stores(sign_in: Any, seeded: Tenant) -> None:
    email = seeded.add_user("analyst")
    page = sign_in("owner")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/dashboard/settings/users")
    access = page.locator(f'[data-access="{email}"]')
    access.locator("summary").click()
    access.get_by_label("finance").check()
    access.get_by_role("button", name="Save roles").click()
    expect(page.locator(f'[data-user="{email}"]')).to_contain_text("analyst, finance")

    access.locator("summary").click()
    access.get_by_label("web").check()
    access.get_by_role("button", name="Save stores").click()
    row = page.locator(f'[data-user="{email}"]')
    expect(row.locator("td").nth(2)).to_have_text("web")
    (user,) = [u for u in seeded.get("/v1/users").json()["items"] if u["email"] == email]
    assert (sorted(user["roles"]), user["stores"]) == (["analyst", "finance"], ["web"])

    access.locator("summary").click()
    access.get_by_role("button", name="Every store").click()
    expect(row.locator("td").nth(2)).to_have_text("all")

    access.locator("summary").click()
    for role in ("analyst", "finance"):
        access.get_by_label(role).uncheck()
    access.get_by_role("button", name="Save roles").click()
    expect(access.locator("form[data-method=PATCH] [role=alert]").first).not_to_be_empty()
    expect(row).to_contain_text("analyst, finance")  # nothing changed
