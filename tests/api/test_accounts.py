"""MFA (TOTP, recovery codes, required by the owner), invitations and password resets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from tests.api.conftest import USER_PASSWORD, Tenant, assert_problem
from tests.api.test_sessions import Browser


@pytest.fixture
def browser(client: Any, tenant: Tenant) -> Browser:
    return Browser(client, tenant)


def last_mail(tenant: Tenant, recipient: str) -> str:
    with tenant.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT body FROM mail_outbox WHERE recipient = %s ORDER BY id DESC LIMIT 1",
            (recipient,),
        )
        row = curs.fetchone()
    assert row is not None, f"no mail to {recipient}"
    return str(row["body"])


def token_in(body: str) -> str:
    found = re.search(r"token (\S+)", body)
    assert found
    return found.group(1)


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted: one step of clock skew is allowed)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))


def enrol(browser: Browser) -> tuple[str, list[str]]:
    secret = browser.post("/v1/me/mfa/totp").json()["secret"]
    confirmed = browser.post("/v1/me/mfa/totp/confirm", {"otp": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def test_with_totp_on_a_sign_in_needs_a_code_used_once(tenant: Tenant, browser: Browser) -> None:
    email = tenant.add_user("finance")
    browser.login(email)
    secret, codes = enrol(browser)
    assert len(codes) == 10
    assert_problem(browser.get("/v1/orders"), 401, "session_expired")  # enrolling ends sessions

    assert_problem(browser.login(email), 401, "mfa_required")
    assert_problem(browser.login(email, otp="000000"), 401, "login_failed")
    code = next_code(secret)  # the current one was used to confirm enrolment
    assert browser.login(email, otp=code).status_code == 201
    assert_problem(browser.login(email, otp=code), 401, "login_failed")  # no replay


def test_a_recovery_code_signs_in_once(tenant: Tenant, browser: Browser) -> None:
    email = tenant.add_user("finance")
    browser.login(email)
    _, codes = enrol(browser)

    assert browser.login(email, recovery_code=codes[0].lower()).status_code == 201
    assert_problem(browser.login(email, recovery_code=codes[0]), 401, "login_failed")


def test_when_the_owner_requires_mfa_users_without_it_may_only_enrol(
    tenant: Tenant, browser: Browser
) -> None:
    email = tenant.add_user("operations")
    assert tenant.post("/v1/security/settings", {"require_mfa": True}).status_code == 200
    assert_problem(
        tenant.with_key("admin").post("/v1/security/settings", {"require_mfa": False}), 403
    )

    signed_in = browser.login(email)

    assert signed_in.json()["mfa_enrolment_required"] is True
    assert_problem(browser.get("/v1/orders"), 403, "forbidden")
    secret, _ = enrol(browser)
    browser.login(email, otp=next_code(secret))
    assert browser.get("/v1/orders").status_code == 200


def test_an_invitation_creates_a_user_with_its_roles_once(tenant: Tenant, browser: Browser) -> None:
    email = "new-hire@example.com"
    invited = tenant.post(
        "/v1/users/invitations", {"email": email, "roles": ["analyst"], "stores": ["web"]}
    )
    assert invited.status_code == 202, invited.text
    token = token_in(last_mail(tenant, email))

    weak = tenant.client.post(
        "/v1/invitations/accept", json={"token": token, "password": "password1234"}
    )
    body = assert_problem(weak, 422, "weak_password")
    assert body["errors"][0]["field"] == "password"
    accepted = tenant.client.post(
        "/v1/invitations/accept", json={"token": token, "password": USER_PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    again = tenant.client.post(
        "/v1/invitations/accept", json={"token": token, "password": USER_PASSWORD}
    )
    assert_problem(again, 422, "invalid_token")

    session = browser.login(email).json()
    assert (session["roles"], session["stores"]) == (["analyst"], ["web"])


def test_a_failed_accept_with_a_weak_password_leaves_the_token_unused(tenant: Tenant) -> None:
    email = "second-try@example.com"
    tenant.post("/v1/users/invitations", {"email": email, "roles": ["analyst"]})
    token = token_in(last_mail(tenant, email))
    tenant.client.post("/v1/invitations/accept", json={"token": token, "password": "short"})
    retried = tenant.client.post(
        "/v1/invitations/accept", json={"token": token, "password": USER_PASSWORD}
    )
    assert retried.status_code == 201, retried.text


def test_integrator_is_not_a_role_for_users(tenant: Tenant) -> None:
    invited = tenant.post(
        "/v1/users/invitations", {"email": "bot@example.com", "roles": ["integrator"]}
    )
    assert_problem(invited, 422)


def test_a_password_reset_token_works_once_and_ends_sessions(
    tenant: Tenant, browser: Browser, container: Any
) -> None:
    container.cache.delete("throttle:reset:testclient")
    email = tenant.add_user("analyst")
    browser.login(email)
    ask = {"tenant_id": str(tenant.tenant_id), "email": email}

    asked = tenant.client.post("/v1/password-reset", json=ask)
    unknown = tenant.client.post("/v1/password-reset", json=ask | {"email": "no-" + email})

    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    token = token_in(last_mail(tenant, email))
    new_password = "quiet lantern over marble"
    reset = tenant.client.post(
        "/v1/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert reset.status_code == 200, reset.text
    assert_problem(browser.get("/v1/orders"), 401, "session_expired")
    assert_problem(browser.login(email), 401, "login_failed")
    assert browser.login(email, new_password).status_code == 201
    replay = tenant.client.post(
        "/v1/password-reset/confirm", json={"token": token, "password": new_password}
    )
    assert_problem(replay, 422, "invalid_token")


def test_the_outbox_delivers_each_mail_once(tenant: Tenant, container: Any) -> None:
    tenant.post("/v1/users/invitations", {"email": "mail@example.com", "roles": ["analyst"]})
    assert container.outbox.deliver() >= 1
    with container.datastore.transaction() as curs:
        curs.execute(
            "SELECT count(*) AS n FROM mail_outbox WHERE recipient = %s AND sent_at IS NULL",
            ("mail@example.com",),
        )
        assert curs.fetchone()["n"] == 0
