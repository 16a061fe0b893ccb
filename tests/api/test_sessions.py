"""Dashboard sign-in: cookie flags, fixation, CSRF, timeouts, throttling, generic failures."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from application.users import ThrottlePolicy
from tests.api.conftest import USER_PASSWORD, Tenant, assert_problem


class Browser:
    """A browser of its own: its own cookie jar, on the same app (no second lifespan)."""

    def __init__(self, client: TestClient[Any], tenant: Tenant) -> None:
        self.http = TestClient(client.app)
        self.tenant = tenant
        self.csrf = ""

    def login(self, email: str, password: str = USER_PASSWORD, **extra: Any) -> Any:
        body = {"tenant_id": str(self.tenant.tenant_id), "email": email, "password": password}
        response = self.http.post("/v1/session", json=body | extra)
        if response.status_code == 201:
            self.csrf = response.json()["csrf_token"]
        return response

    def get(self, path: str) -> Any:
        return self.http.get(path)

    def post(self, path: str, json: Any = None, *, csrf: bool = True) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.http.post(path, json=json, headers=headers)

    @property
    def cookie(self) -> str | None:
        return self.http.cookies.get("kontor_session")


@pytest.fixture
def browser(client: TestClient[Any], tenant: Tenant) -> Browser:
    return Browser(client, tenant)


STORE = {"code": "web", "name": "Web shop", "currency": "EUR"}


def test_a_user_signs_in_works_with_the_cookie_and_signs_out(
    tenant: Tenant, browser: Browser
) -> None:
    email = tenant.add_user("operations")

    signed_in = browser.login(email)

    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["roles"] == ["operations"]
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP here; see the TLS test
    assert browser.post("/v1/stores", STORE).status_code == 201
    assert browser.get("/v1/stores").json()["items"][0]["code"] == "web"
    assert (
        browser.http.delete("/v1/session", headers={"X-CSRF-Token": browser.csrf}).status_code
        == 204
    )
    assert_problem(browser.get("/v1/stores"), 401)


def test_the_cookie_is_secure_over_tls(tenant: Tenant, client: TestClient[Any]) -> None:
    """Over https it is Secure; a proxy's X-Forwarded-Proto counts only from a trusted proxy
    (tests/api/test_trusted_proxies.py)."""
    email = tenant.add_user("analyst")
    body = {"tenant_id": str(tenant.tenant_id), "email": email, "password": USER_PASSWORD}
    tls = TestClient(client.app, base_url="https://testserver.local")  # no second lifespan
    secure = tls.post("/v1/session", json=body)
    spoofed = Browser(client, tenant).http.post(
        "/v1/session", json=body, headers={"X-Forwarded-Proto": "https"}
    )

    assert "secure" in secure.headers["set-cookie"].lower()
    assert "secure" not in spoofed.headers["set-cookie"].lower()


def test_signing_in_issues_a_new_session_and_ends_the_one_before(
    tenant: Tenant, browser: Browser
) -> None:
    email = tenant.add_user("analyst")
    browser.login(email)
    first = browser.cookie

    browser.login(email)

    assert browser.cookie
    assert browser.cookie != first
    stale = TestClient(browser.http.app, cookies={"kontor_session": first or ""})
    assert_problem(stale.get("/v1/stores"), 401, "session_expired")


def test_a_session_id_the_server_did_not_issue_is_refused(client: Any) -> None:
    planted = TestClient(client.app, cookies={"kontor_session": "attacker-chosen-value"})
    assert_problem(planted.get("/v1/orders"), 401, "session_expired")


def test_cookie_authenticated_writes_need_the_csrf_token(tenant: Tenant, browser: Browser) -> None:
    browser.login(tenant.add_user("operations"))

    assert_problem(browser.post("/v1/stores", STORE, csrf=False), 403, "csrf_token_invalid")
    browser.csrf = "not-the-token"
    assert_problem(browser.post("/v1/stores", STORE), 403, "csrf_token_invalid")
    assert tenant.event_count() == 0
    assert browser.get("/v1/stores").status_code == 200  # reads need no token
    assert browser.get("/v1/session").json()["csrf_token"]


def test_bearer_requests_need_no_csrf_token(tenant: Tenant) -> None:
    assert tenant.post("/v1/stores", STORE).status_code == 201


def test_a_session_ends_after_the_idle_timeout(
    tenant: Tenant, browser: Browser, container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser.login(tenant.add_user("analyst"))
    idle = container.sessions.policy.idle_seconds
    now = time.time()

    monkeypatch.setattr(container.sessions, "clock", lambda: now + idle - 5)
    assert browser.get("/v1/stores").status_code == 200  # activity extends the idle deadline
    monkeypatch.setattr(container.sessions, "clock", lambda: now + 2 * idle - 10)
    assert browser.get("/v1/stores").status_code == 200
    monkeypatch.setattr(container.sessions, "clock", lambda: now + 3 * idle)
    assert_problem(browser.get("/v1/stores"), 401, "session_expired")


def test_a_session_ends_after_the_absolute_timeout_however_active(
    tenant: Tenant, browser: Browser, container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser.login(tenant.add_user("analyst"))
    policy = container.sessions.policy
    start = time.time()
    moment = start
    while moment < start + policy.absolute_seconds - policy.idle_seconds:
        moment += policy.idle_seconds - 60
        monkeypatch.setattr(container.sessions, "clock", lambda at=moment: at)
        assert browser.get("/v1/stores").status_code == 200
    monkeypatch.setattr(container.sessions, "clock", lambda: start + policy.absolute_seconds + 1)
    assert_problem(browser.get("/v1/stores"), 401, "session_expired")


def test_wrong_password_unknown_email_and_disabled_user_fail_alike(
    tenant: Tenant, browser: Browser
) -> None:
    email = tenant.add_user("analyst")
    disabled = tenant.add_user("analyst")
    user_id = next(
        user["id"] for user in tenant.get("/v1/users").json()["items"] if user["email"] == disabled
    )
    assert tenant.post(f"/v1/users/{user_id}/disable").status_code == 200

    answers = [
        browser.login(email, "wrong password entirely"),
        browser.login("nobody-" + email),
        browser.login(disabled),
    ]

    bodies = [assert_problem(answer, 401, "login_failed") for answer in answers]
    assert len({body["detail"] for body in bodies}) == 1
    assert browser.cookie is None


def test_failed_sign_ins_are_throttled_per_account(tenant: Tenant, browser: Browser) -> None:
    email = tenant.add_user("analyst")
    for _ in range(5):
        assert_problem(browser.login(email, "wrong password entirely"), 401, "login_failed")

    throttled = browser.login(email)  # even the right password, for now

    assert_problem(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) > 0
    assert browser.login(tenant.add_user("analyst")).status_code == 201  # others unaffected


def test_failed_sign_ins_are_throttled_per_address(
    tenant: Tenant, browser: Browser, container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container.users, "throttle", ThrottlePolicy(ip_failures=3))
    container.cache.delete("throttle:ip:testclient")
    try:
        for n in range(3):
            browser.login(f"guess-{n}@example.com", "wrong password entirely")
        assert_problem(browser.login(tenant.add_user("analyst")), 429, "too_many_attempts")
    finally:
        container.cache.delete("throttle:ip:testclient")


def test_a_disabled_users_sessions_end_at_once(tenant: Tenant, browser: Browser) -> None:
    email = tenant.add_user("analyst")
    browser.login(email)
    user_id = next(u["id"] for u in tenant.get("/v1/users").json()["items"] if u["email"] == email)

    tenant.post(f"/v1/users/{user_id}/disable")

    assert_problem(browser.get("/v1/stores"), 401, "session_expired")


def test_login_rejects_malformed_bodies_with_a_problem(browser: Browser) -> None:
    assert_problem(browser.http.post("/v1/session", json={"email": "x"}), 422)
    assert_problem(browser.http.post("/v1/session", content=b"{"), 400)


def test_a_cross_site_form_cannot_sign_a_browser_in(tenant: Tenant, browser: Browser) -> None:
    email = tenant.add_user("analyst")
    body = (
        f'{{"tenant_id": "{tenant.tenant_id}", "email": "{email}", "password": "{USER_PASSWORD}"}}'
    )
    forged = browser.http.post("/v1/session", content=body, headers={"Content-Type": "text/plain"})
    assert_problem(forged, 415, "unsupported_media_type")
    assert browser.cookie is None
