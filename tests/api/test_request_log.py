"""Request ids: echoed, recorded in the events a request appends, bound to its log lines; the
access log names no secret."""

from __future__ import annotations

import structlog

from tests.api.conftest import Tenant, order_body


def test_a_request_id_is_echoed_recorded_and_logged_without_secrets(seeded: Tenant) -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        placed = seeded.post("/v1/orders", order_body(), headers={"X-Request-Id": "req-42.a"})

    assert placed.status_code == 201, placed.text
    assert placed.headers["x-request-id"] == "req-42.a"
    events = seeded.get(f"/v1/orders/{placed.json()['id']}").json()
    history = seeded.get(f"/v1/audit/order/{events['id']}/events").json()["items"]
    assert {event["request_id"] for event in history} == {"req-42.a"}
    (line,) = [entry for entry in logs if entry["event"] == "request"]
    assert (line["request_id"], line["status"], line["path"]) == ("req-42.a", 201, "/v1/orders")
    assert seeded.api_key not in repr(logs)


def test_a_request_id_that_is_not_a_plain_token_is_replaced(seeded: Tenant) -> None:
    odd = seeded.get("/v1/stores", headers={"X-Request-Id": "x" * 129})
    fresh = seeded.get("/v1/stores")

    assert len(odd.headers["x-request-id"]) == 32
    assert odd.headers["x-request-id"] != fresh.headers["x-request-id"]
