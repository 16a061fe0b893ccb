"""Idempotency-Key on POST: a retry replays the first answer; another body is a 422."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Tenant, assert_problem, order_body


def test_a_retried_order_with_the_same_key_replays_the_first_response_and_writes_once(
    seeded: Tenant, caught_up: Any
) -> None:
    key = {"Idempotency-Key": "order-attempt-1"}
    first = seeded.post("/v1/orders", order_body(), headers=key)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    written = seeded.event_count()

    retry = seeded.post("/v1/orders", order_body(), headers=key)

    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["etag"] == first.headers["etag"] == '"2"'
    assert seeded.event_count() == written
    caught_up()
    assert seeded.inventory(sku="MUG", location="BER")[("MUG", "BER")]["reserved"] == 2
    assert len(seeded.get("/v1/orders").json()["items"]) == 1


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(seeded: Tenant) -> None:
    key = {"Idempotency-Key": "order-attempt-2"}
    seeded.place(headers=key)
    written = seeded.event_count()

    reused = seeded.post(
        "/v1/orders",
        order_body(lines=[{"sku": "MUG", "quantity": 3, "unit_price": "9.90"}]),
        headers=key,
    )

    assert_problem(reused, 422, "idempotency_key_reused")
    assert seeded.event_count() == written


def test_the_same_key_on_another_endpoint_is_a_422(seeded: Tenant) -> None:
    key = {"Idempotency-Key": "shared-key"}
    seeded.place(headers=key)
    response = seeded.post(
        "/v1/stock/receipts",
        {"location": "BER", "lines": [{"sku": "MUG", "quantity": 1}]},
        headers=key,
    )
    assert_problem(response, 422, "idempotency_key_reused")


def test_a_retried_receipt_adds_the_stock_only_once(seeded: Tenant) -> None:
    key = {"Idempotency-Key": "receipt-42"}
    body = {"location": "MUC", "lines": [{"sku": "TEE", "quantity": 6}]}
    first = seeded.post("/v1/stock/receipts", body, headers=key)
    written = seeded.event_count()

    retry = seeded.post("/v1/stock/receipts", body, headers=key)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.json()["items"][0]["on_hand"] == 6
    assert seeded.event_count() == written


def test_a_retried_hold_replays_instead_of_refusing_an_already_held_order(seeded: Tenant) -> None:
    order = seeded.place()
    key = {"Idempotency-Key": "hold-1"}
    first = seeded.post(f"/v1/orders/{order['id']}/hold", {"reason": "check"}, headers=key)
    retry = seeded.post(f"/v1/orders/{order['id']}/hold", {"reason": "check"}, headers=key)
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


def test_keys_belong_to_one_tenant(seeded: Tenant, other: Tenant) -> None:
    key = {"Idempotency-Key": "same-key-two-tenants"}
    seeded.place(headers=key)
    other.seed()
    response = other.post("/v1/orders", order_body(), headers=key)
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


def test_a_refused_request_is_not_remembered_so_a_retry_can_succeed(seeded: Tenant) -> None:
    key = {"Idempotency-Key": "after-restock"}
    body = order_body(lines=[{"sku": "TEE", "quantity": 5, "unit_price": "19.00"}])
    assert_problem(seeded.post("/v1/orders", body, headers=key), 409, "insufficient_stock")
    seeded.receive("BER", TEE=2)

    retry = seeded.post("/v1/orders", body, headers=key)

    assert retry.status_code == 201
    assert "idempotent-replayed" not in retry.headers


def test_a_key_is_remembered_even_when_the_command_writes_nothing(seeded: Tenant) -> None:
    imported = order_body(channel="shopify", external_id="SO-1")
    assert seeded.post("/v1/orders", imported).status_code == 201
    written = seeded.event_count()
    key = {"Idempotency-Key": "reimport-1"}

    again = seeded.post("/v1/orders", imported, headers=key)
    retry = seeded.post("/v1/orders", imported, headers=key)
    other = seeded.post(
        "/v1/orders", order_body(channel="shopify", external_id="SO-2"), headers=key
    )

    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == again.content
    assert retry.headers["etag"] == again.headers["etag"]
    assert_problem(other, 422, "idempotency_key_reused")
    assert seeded.event_count() == written
