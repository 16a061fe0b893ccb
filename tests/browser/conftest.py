"""Fixtures for the dashboard's browser tests: one real server (granian, embedded in a thread,
with the projection runners) and one Chromium per package run; a fresh tenant per test, and
pages signed in as a user of that tenant.

Chromium is Debian's (/usr/bin/chromium; `make chromium` installs it), driven by Playwright
for Python: `playwright install` is never needed."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from granian.constants import Interfaces
from granian.server.embed import Server
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from adapters.security import Argon2Hasher
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from interfaces.http.app import create_app
from projections.runner import start_runners
from tests.api.conftest import USER_PASSWORD, Tenant, new_tenant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[1] / "artifacts" / "screenshots"
WIDTHS = (390, 1440)
LIVE_SECONDS = 2.0
"""The issue's promise: a change shows on an open page within 2 seconds, without reload."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# What appears after a form submits goes through the projections and the live stream; on two
# loaded cores that can take longer than Playwright's 5 s. Checks of the 2 s live target give
# their own timeout (LIVE_MS).
expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def container(settings: Settings, run_id: str) -> Container:
    migrate(settings)
    built = build_container(replace(settings, cache_namespace=f"kontor-web-{run_id}"), pool_size=6)
    cheap = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=8 * 1024))
    built.tenants.hasher = cheap
    built.users.hasher = cheap
    return built


@pytest.fixture(scope="package")
def server(container: Container) -> Iterator[str]:
    """The app served over real HTTP, with the projections running: its base URL."""
    port = _free_port()
    app = create_app(container)
    embedded = Server(
        app, address="127.0.0.1", port=port, interface=Interfaces.ASGI, log_enabled=False
    )
    loop = asyncio.new_event_loop()
    # A daemon: a stream a failed test left open must not keep the session from ending.
    thread = threading.Thread(target=lambda: loop.run_until_complete(embedded.serve()), daemon=True)
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield base
        loop.call_soon_threadsafe(embedded.stop)
        thread.join(10)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Chromium: run `make chromium`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10) as client:
        yield client


@pytest.fixture
def tenant(api: httpx.Client, container: Container) -> Tenant:
    return new_tenant(api, container)  # type: ignore[arg-type]  # httpx speaks TestClient's API


@pytest.fixture
def seeded(tenant: Tenant) -> Tenant:
    tenant.seed()
    return tenant


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    opened = browser.new_context(base_url=server, viewport={"width": 1440, "height": 900})
    opened.set_default_timeout(5_000)
    yield opened
    opened.close()


@pytest.fixture
def sign_in(context: BrowserContext, tenant: Tenant) -> Callable[..., Page]:
    """Signs a new user with these roles in (through POST /v1/session, sharing the context's
    cookies) and returns a page: `sign_in("owner").goto("/dashboard")`."""

    def signed_in(*roles: str, stores: set[str] | None = None) -> Page:
        email = tenant.add_user(*roles, stores=stores)
        response = context.request.post(
            "/v1/session",
            data={"tenant_id": str(tenant.tenant_id), "email": email, "password": USER_PASSWORD},
        )
        assert response.status == 201, response.text()
        return context.new_page()

    return signed_in


def screenshots(page: Page, name: str) -> None:
    """Full-page screenshots at phone and desktop widths, kept as test artifacts."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1440, "height": 900}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size(size)


def unlabelled_controls(page: Page) -> list[str]:
    """Form controls without an accessible name (a cheap a11y sanity check)."""
    found: list[str] = page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea, button",
        """els => els.filter(el => {
             const named = el.labels?.length || el.getAttribute('aria-label')
               || el.getAttribute('aria-labelledby')
               || (el.tagName === 'BUTTON' && el.textContent.trim());
             return !named;
           }).map(el => el.outerHTML.slice(0, 120))""",
    )
    return found


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page (served from the vendored copy)."""
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


@pytest.fixture
def other(api: httpx.Client, container: Container) -> Tenant:
    """A second, unrelated tenant."""
    return new_tenant(api, container)  # type: ignore[arg-type]
