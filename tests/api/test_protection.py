"""Abuse protection: rate limits, security headers, CORS off by default, strict request bodies."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from litestar.testing import TestClient

from application.rate_limits import Limits, RateLimiter
from interfaces.bootstrap import Container
from interfaces.http.app import create_app
from tests.api.conftest import Tenant, assert_problem


@pytest.fixture
def tight(container: Container, monkeypatch: pytest.MonkeyPatch) -> Limits:
    """Small limits, counted under a prefix of this test's own."""
    limits = Limits(per_key=3, per_ip=5, window_seconds=60)
    monkeypatch.setattr(
        container, "limiter", RateLimiter(container.cache, limits, prefix=uuid4().hex)
    )
    return limits


def test_an_api_key_over_its_limit_gets_a_429_problem_with_retry_after(
    tenant: Tenant, tight: Limits
) -> None:
    for _ in range(tight.per_key):
        assert tenant.get("/v1/orders").status_code == 200
    response = tenant.get("/v1/orders")
    assert_problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= tight.window_seconds


def test_each_api_key_has_its_own_allowance(tenant: Tenant, tight: Limits) -> None:
    for _ in range(tight.per_key):
        tenant.get("/v1/orders")
    assert tenant.get("/v1/orders").status_code == 429
    assert tenant.with_key("operations").get("/v1/orders").status_code == 200


def test_a_client_address_is_limited_on_every_route_signed_in_or_not(
    client: TestClient[Any], tight: Limits
) -> None:
    for _ in range(tight.per_ip):
        client.get("/v1/orders")  # 401s count too: guessing keys is what this stops
    assert_problem(client.get("/health"), 429, "rate_limited")
    assert_problem(client.post("/v1/session", json={}), 429, "rate_limited")


def test_every_response_carries_the_security_headers(tenant: Tenant) -> None:
    for response in (
        tenant.get("/v1/orders"),
        tenant.get("/v1/orders/not-a-uuid"),
        tenant.get("/v1/nowhere"),
        tenant.client.get("/v1/orders"),
    ):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers  # plain HTTP: no HSTS


def test_hsts_is_sent_behind_tls(client: TestClient[Any]) -> None:
    response = client.get("https://testserver.local/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_cors_is_off_by_default(tenant: Tenant) -> None:
    origin = {"Origin": "https://evil.example"}
    response = tenant.get("/v1/orders", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    preflight = tenant.client.options(
        "/v1/orders", headers=origin | {"Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_only_the_configured_origins(container: Container) -> None:
    settings = replace(container.settings, cors_origins=("https://shop.example",))
    # Not entered as a context manager: its lifespan would close the shared container.
    browser = TestClient(create_app(replace(container, settings=settings)))
    allowed = browser.get("/health", headers={"Origin": "https://shop.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    refused = browser.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


def test_every_request_body_refuses_unknown_fields(client: TestClient[Any]) -> None:
    loose, checked = [], 0
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            kind = data.annotation
            if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
                checked += 1
                if not kind.__struct_config__.forbid_unknown_fields:
                    loose.append(f"{handler.fn.__qualname__}: {kind.__name__}")
    assert checked > 20
    assert loose == []


def test_an_unknown_field_is_named_in_the_problem(seeded: Tenant) -> None:
    before = seeded.event_count()
    response = seeded.post(
        "/v1/locations", {"code": "HAM", "name": "Hamburg", "country": "DE", "colour": "red"}
    )
    body = assert_problem(response, 422, "validation_failed")
    assert "colour" in body["detail"]
    assert seeded.event_count() == before
