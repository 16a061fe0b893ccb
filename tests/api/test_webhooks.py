"""Webhooks against a local receiver: signatures, retries on 5xx only, redelivery, the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import pytest
from standardwebhooks.webhooks import Webhook

from interfaces.bootstrap import Container
from interfaces.workers import start_async_worker
from projections.webhooks import Deliverer, WebhookConfig, matches
from tests.api.conftest import Tenant, assert_problem

SLOW = -1  # in a script: answer 200, but only after the deliverer's timeout


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each path with the next status of its script (then the last one, forever)."""

    url: str
    scripts: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def on(self, path: str, *statuses: int) -> str:
        self.scripts[path] = list(statuses)
        return self.url + path

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            target = state["receiver"]
            target.received.append(Received(self.path, dict(self.headers), body))
            script = target.scripts.get(self.path, [200])
            status = script.pop(0) if len(script) > 1 else script[0]
            if status == SLOW:
                time.sleep(2.0)
                status = 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()


@pytest.fixture(scope="module")
def deliverer(container: Container) -> Iterator[None]:
    assert container.settings.database_url is not None
    config = WebhookConfig(
        container.settings.database_url,
        guard=container.webhook_guard,
        backoff=0.05,
        max_attempts=4,
        timeout=0.5,
    )
    stop, _ = start_async_worker(Deliverer(config).run, "test-webhooks")
    yield
    stop()


def register(tenant: Tenant, url: str, **body: Any) -> dict[str, Any]:
    return tenant.ok("/v1/webhooks/endpoints", {"url": url, **body})  # type: ignore[no-any-return]


def deliveries(tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = tenant.get("/v1/webhooks/deliveries", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def wait_for(check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_deliveries_are_signed_and_logged(
    seeded: Tenant, receiver: Receiver, deliverer: None
) -> None:
    endpoint = register(seeded, receiver.on("/signed", 200), event_types=["order.OrderPlaced"])
    assert endpoint["secret"].startswith("whsec_")
    order = seeded.place()
    got = wait_for(lambda: receiver.at("/signed"))
    assert len(got) == 1
    request = got[0]
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "order.OrderPlaced"
    assert payload["stream_id"] == order["id"]
    assert payload["data"]["order_id"] == order["id"]
    assert request.headers["webhook-id"] == payload["id"]
    [logged] = wait_for(lambda: [d for d in deliveries(seeded) if d["status"] == "succeeded"])
    assert logged["endpoint_id"] == endpoint["id"]
    assert logged["attempts"] == 1
    assert [a["status_code"] for a in logged["log"]] == [200]
    assert "secret" not in seeded.get("/v1/webhooks/endpoints").json()["items"][0]


def test_after_a_rotation_both_secrets_verify(
    seeded: Tenant, receiver: Receiver, deliverer: None
) -> None:
    endpoint = register(seeded, receiver.on("/rotated", 200), event_types=["order.OrderPlaced"])
    rotated = seeded.ok(f"/v1/webhooks/endpoints/{endpoint['id']}/secrets", {})
    assert rotated["secret"] != endpoint["secret"]
    seeded.place()
    [request] = wait_for(lambda: receiver.at("/rotated"))
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "order.OrderPlaced"
    assert_problem(
        seeded.post(f"/v1/webhooks/endpoints/{uuid4()}/secrets", {}), 404, "endpoint_not_found"
    )


def test_a_500_is_retried_with_backoff_and_a_400_is_not(
    seeded: Tenant, receiver: Receiver, deliverer: None
) -> None:
    placed = ["order.OrderPlaced"]
    flaky = register(seeded, receiver.on("/flaky", 500, 503, 200), event_types=placed)
    refusing = register(seeded, receiver.on("/refusing", 400), event_types=placed)
    seeded.place()
    wait_for(lambda: len(receiver.at("/flaky")) == 3)
    flaky_log = wait_for(
        lambda: [
            d for d in deliveries(seeded, endpoint_id=flaky["id"]) if d["status"] == "succeeded"
        ]
    )
    assert [a["status_code"] for a in flaky_log[0]["log"]] == [500, 503, 200]
    refused = wait_for(
        lambda: [
            d for d in deliveries(seeded, endpoint_id=refusing["id"]) if d["status"] == "failed"
        ]
    )
    assert [a["status_code"] for a in refused[0]["log"]] == [400]
    time.sleep(0.3)
    assert len(receiver.at("/refusing")) == 1


def test_a_timeout_is_retried(seeded: Tenant, receiver: Receiver, deliverer: None) -> None:
    slow = register(seeded, receiver.on("/slow", SLOW, 200), event_types=["order.OrderPlaced"])
    seeded.place()
    [done] = wait_for(
        lambda: [
            d for d in deliveries(seeded, endpoint_id=slow["id"]) if d["status"] == "succeeded"
        ]
    )
    assert [(a["status_code"], a["error"]) for a in done["log"]] == [(None, "timeout"), (200, None)]
    assert done["log"][0]["duration_ms"] < 1_500


def test_gives_up_after_max_attempts_then_redelivers_on_request(
    seeded: Tenant, receiver: Receiver, deliverer: None
) -> None:
    register(
        seeded, receiver.on("/down", 500, 500, 500, 500, 200), event_types=["order.OrderPlaced"]
    )
    seeded.place()
    [failed] = wait_for(lambda: [d for d in deliveries(seeded) if d["status"] == "failed"][:1])
    assert failed["attempts"] == 4
    redeliver = f"/v1/webhooks/deliveries/{failed['id']}/redeliver"
    response = seeded.post(redeliver, headers={"Idempotency-Key": "again-1"})
    assert response.status_code == 202, response.text
    replay = seeded.post(redeliver, headers={"Idempotency-Key": "again-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    done = wait_for(
        lambda: [
            d for d in deliveries(seeded) if d["id"] == failed["id"] and d["status"] == "succeeded"
        ]
    )
    assert [a["status_code"] for a in done[0]["log"]] == [500, 500, 500, 500, 200]


def test_endpoints_refuse_bad_urls_and_unknown_types(seeded: Tenant, other: Tenant) -> None:
    for url in ("ftp://example.com/hook", "http://user:pw@example.com/", "not a url"):
        assert_problem(seeded.post("/v1/webhooks/endpoints", {"url": url}), 422, "invalid_url")
    own = "http://127.0.0.1:8000/v1/tenants"  # the API itself (the test settings' address)
    assert_problem(seeded.post("/v1/webhooks/endpoints", {"url": own}), 422, "invalid_url")
    assert_problem(
        seeded.post(
            "/v1/webhooks/endpoints", {"url": "http://example.com/", "event_types": ["nope"]}
        ),
        422,
        "unknown_event_type",
    )
    assert_problem(
        seeded.post("/v1/webhooks/endpoints", {"url": "http://example.com/", "secret": "short"}),
        422,
        "invalid_secret",
    )


def test_endpoints_are_per_tenant_and_can_be_deleted(seeded: Tenant, other: Tenant) -> None:
    created = seeded.post(
        "/v1/webhooks/endpoints",
        {"url": "http://example.com/hook"},
        headers={"Idempotency-Key": "hook-1"},
    )
    assert created.status_code == 201
    again = seeded.post(
        "/v1/webhooks/endpoints",
        {"url": "http://example.com/hook"},
        headers={"Idempotency-Key": "hook-1"},
    )
    assert again.json() == created.json()
    endpoint_id = created.json()["id"]
    assert [e["id"] for e in seeded.get("/v1/webhooks/endpoints").json()["items"]] == [endpoint_id]
    assert other.get("/v1/webhooks/endpoints").json()["items"] == []
    assert_problem(
        other.client.delete(f"/v1/webhooks/endpoints/{endpoint_id}", headers=other.headers), 404
    )
    deleted = seeded.client.delete(f"/v1/webhooks/endpoints/{endpoint_id}", headers=seeded.headers)
    assert deleted.status_code == 204
    assert seeded.get("/v1/webhooks/endpoints").json()["items"] == []


def test_event_type_filters() -> None:
    assert matches([], "order.OrderPlaced")
    assert matches(["*"], "stock.StockReceived")
    assert matches(["order.*"], "order.OrderHeld")
    assert not matches(["order.*"], "stock.StockReceived")
    assert matches(["stock.StockReceived"], "stock.StockReceived")
    assert not matches(["stock.StockReceived"], "stock.StockReserved")
