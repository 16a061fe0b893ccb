"""Liveness, readiness (with projection lag) and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from projections.runner import FOLLOWERS, PROJECTIONS


def test_health_answers_without_authentication(client: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_the_servers_and_each_projections_lag(client: Any, caught_up: Any) -> None:
    caught_up()
    response = client.get("/ready")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True
    assert {"name": "postgres", "ok": True, "detail": "reachable"} in body["checks"]
    assert all(check["ok"] for check in body["checks"])
    projections = {item["name"]: item for item in body["projections"]}
    assert set(projections) == set(PROJECTIONS) | set(FOLLOWERS)
    for name in PROJECTIONS:
        assert projections[name]["lag"] == 0
        assert projections[name]["lag_seconds"] == 0
        assert projections[name]["position"] >= 0
    assert projections["nats-relay"]["lag"] >= 0  # no relay runs in these tests


def test_the_openapi_document_describes_every_endpoint(client: Any) -> None:
    response = client.get("/schema/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/v1/stores",
        "/v1/locations",
        "/v1/products",
        "/v1/products/{sku}",
        "/v1/stock/receipts",
        "/v1/stock/adjustments",
        "/v1/stock/transfers",
        "/v1/inventory",
        "/v1/orders",
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/cancel",
        "/v1/orders/{order_id}/hold",
        "/v1/orders/{order_id}/release",
        "/health",
        "/ready",
    ):
        assert path in paths, sorted(paths)
    assert set(paths["/v1/orders"]) >= {"get", "post"}


def test_metrics_expose_each_followers_lag(client: Any, caught_up: Any) -> None:
    caught_up()
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (*PROJECTIONS, *FOLLOWERS):
        assert f'kontor_follower_lag_events{{follower="{name}"}}' in text
        assert f'kontor_follower_lag_seconds{{follower="{name}"}}' in text
    assert 'kontor_follower_lag_events{follower="orders_view"} 0.0' in text
