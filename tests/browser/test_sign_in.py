"""Signing in and out of the dashboard, and who sees what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.api.conftest import USER_PASSWORD, Tenant
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls


def test_a_visitor_is_sent_to_sign_in_and_comes_back_to_the_page_asked_for(
    context: BrowserContext, seeded: Tenant
) -> None:
    email = seeded.add_user("owner")
    page = context.new_page()
    page.goto("/dashboard/orders")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next=/dashboard/orders$"))
    screenshots(page, "login")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)

    page.get_by_label("Account ID").fill(str(seeded.tenant_id))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/dashboard/orders$"))
    expect(page.get_by_role("link", name="Orders")).to_have_attribute("aria-current", "page")


def test_a_wrong_password_is_refused_with_a_clear_message(
    context: BrowserContext, seeded: Tenant
) -> None:
    email = seeded.add_user("owner")
    page = context.new_page()
    page.goto("/dashboard/login")
    page.get_by_label("Account ID").fill(str(seeded.tenant_id))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("email or password")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))


def test_signing_out_ends_the_session(sign_in: Any, seeded: Tenant) -> None:
    page: Page = sign_in("operations")
    page.goto("/dashboard")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))


def test_an_account_with_two_factors_is_asked_for_its_code(
    browser: Browser, server: str, seeded: Tenant
) -> None:
    email = seeded.add_user("finance")
    enrolling = browser.new_context(base_url=server)
    session = enrolling.request.post(
        "/v1/session",
        data={"tenant_id": str(seeded.tenant_id), "email": email, "password": USER_PASSWORD},
    ).json()
    csrf = {"X-CSRF-Token": session["csrf_token"]}
    secret = enrolling.request.post("/v1/me/mfa/totp", headers=csrf).json()["secret"]
    confirmed = enrolling.request.post(
        "/v1/me/mfa/totp/confirm", headers=csrf, data={"otp": pyotp.TOTP(secret).now()}
    )
    assert confirmed.ok, confirmed.text()
    enrolling.close()

    page = browser.new_context(base_url=server).new_page()
    page.goto("/dashboard/login")
    page.get_by_label("Account ID").fill(str(seeded.tenant_id))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    code = page.get_by_label("One-time code from your authenticator app (or a recovery code)")
    expect(code).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("authenticator app")

    code.fill(pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30)))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.context.close()
