"""Audit over REST: history, state as of a version or moment, the audit index, verify."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.order.state import Order
from tests.api.conftest import Tenant, assert_problem


def order_state(seeded: Tenant, order_id: str) -> Order:
    loaded = seeded.container.orders.get(seeded.tenant_id, UUID(order_id))
    return loaded.state  # type: ignore[no-any-return]


def test_history_of_a_stream_carries_who_when_and_why(seeded: Tenant) -> None:
    order = seeded.place(headers={"X-Request-Id": "req-audit-1"})
    seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "fraud check"}, 200)
    first = seeded.get(f"/v1/audit/order/{order['id']}/events", params={"limit": 1})
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 1
    event = page["items"][0]
    assert event["version"] == 1
    assert event["type"] == "order.OrderPlaced"
    assert event["request_id"] == "req-audit-1"
    assert event["actor"].startswith("api_key:")
    assert {"correlation_id", "causation_id", "recorded_at", "position", "hash", "data"} <= set(
        event
    )
    rest = seeded.get(
        f"/v1/audit/order/{order['id']}/events", params={"cursor": page["next_cursor"]}
    ).json()
    assert [e["version"] for e in rest["items"]] == list(range(2, order["version"] + 2))
    assert rest["next_cursor"] is None


def test_state_at_each_version_and_moment_equals_the_live_aggregate_then(seeded: Tenant) -> None:
    order = seeded.place(lines=[{"sku": "MUG", "quantity": 3, "unit_price": "9.90"}])
    order_id = order["id"]
    live: dict[int, Order] = {order["version"]: order_state(seeded, order_id)}
    moments: dict[int, datetime] = {order["version"]: datetime.now(UTC)}
    for path, body in (
        ("hold", {"reason": "check"}),
        ("release", {}),
        ("cancel", {"reason": "changed mind", "lines": [{"line_no": 1, "quantity": 1}]}),
    ):
        done = seeded.ok(f"/v1/orders/{order_id}/{path}", body, 200)
        live[done["version"]] = order_state(seeded, order_id)
        moments[done["version"]] = datetime.now(UTC)
    for version, expected in live.items():
        by_version = seeded.get(f"/v1/audit/order/{order_id}/state", params={"version": version})
        assert by_version.status_code == 200, by_version.text
        assert by_version.json()["version"] == version
        state = msgspec.json.encode(by_version.json()["state"])
        assert msgspec.json.decode(state, type=Order) == expected
        by_time = seeded.get(
            f"/v1/audit/order/{order_id}/state", params={"at": moments[version].isoformat()}
        ).json()
        assert by_time["version"] == version
    before = seeded.get(
        f"/v1/audit/order/{order_id}/state", params={"at": "2000-01-01T00:00:00Z"}
    ).json()
    assert before["version"] == 0


def test_audit_refuses_bad_input_and_other_tenants(seeded: Tenant, other: Tenant) -> None:
    order_id = seeded.place()["id"]
    assert_problem(other.get(f"/v1/audit/order/{order_id}/events"), 404)
    assert_problem(other.get(f"/v1/audit/order/{order_id}/state"), 404)
    assert_problem(other.get("/v1/audit/verify", params={"stream": order_id}), 404)
    assert_problem(seeded.get(f"/v1/audit/stock/{order_id}/state"), 404)
    assert_problem(seeded.get(f"/v1/audit/nonsense/{order_id}/state"), 422, "unknown_aggregate")
    assert_problem(seeded.get(f"/v1/audit/order/{order_id}/state", params={"at": "yesterday"}), 400)
    assert_problem(seeded.get(f"/v1/audit/order/{order_id}/state", params={"version": 99}), 422)
    assert_problem(seeded.get("/v1/audit/log", params={"cursor": "x"}), 400, "invalid_cursor")


def test_audit_log_lists_who_did_what_filtered(seeded: Tenant, caught_up: Any) -> None:
    order = seeded.place()
    caught_up()
    everything = seeded.get("/v1/audit/log", params={"limit": 1000}).json()["items"]
    assert len(everything) == seeded.event_count()
    positions = [e["position"] for e in everything]
    assert positions == sorted(positions)
    placed = seeded.get("/v1/audit/log", params={"type": "order.OrderPlaced"}).json()["items"]
    assert [e["stream_id"] for e in placed] == [order["id"]]
    assert seeded.get("/v1/audit/log", params={"actor": "nobody"}).json()["items"] == []
    later = seeded.get("/v1/audit/log", params={"from": "2999-01-01T00:00:00Z"}).json()
    assert later["items"] == []
    page = seeded.get("/v1/audit/log", params={"limit": 2}).json()
    after = seeded.get("/v1/audit/log", params={"cursor": page["next_cursor"]}).json()["items"]
    assert [e["position"] for e in page["items"] + after] == positions


def test_verify_passes_on_an_honest_store_and_pinpoints_an_altered_row(
    seeded: Tenant, caught_up: Any
) -> None:
    order = seeded.place()
    seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "check"}, 200)
    seeded.ok(f"/v1/orders/{order['id']}/release", {}, 200)
    caught_up()
    honest = seeded.get("/v1/audit/verify", params={"stream": order["id"]}).json()
    assert honest["ok"] is True
    assert honest["events"] == order["version"] + 2
    assert seeded.get("/v1/audit/verify").json()["ok"] is True
    with seeded.container.datastore.transaction(commit=True) as curs:
        curs.execute(
            "UPDATE kontor_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            "'check', 'CHECK'), 'UTF8') WHERE originator_id = %s AND originator_version = %s "
            "RETURNING notification_id",
            (order["id"], order["version"] + 1),
        )
        altered = curs.fetchone()["notification_id"]
    tampered = seeded.get("/v1/audit/verify", params={"stream": order["id"]}).json()
    assert tampered["ok"] is False
    assert tampered["first_bad"]["version"] == order["version"] + 1
    assert tampered["first_bad"]["position"] == altered
    assert len(tampered["breaks"]) == 1
    tenant_wide = seeded.get("/v1/audit/verify").json()
    assert tenant_wide["ok"] is False
    assert tenant_wide["first_bad"]["position"] == altered


def test_verify_detects_deleted_and_inserted_rows(seeded: Tenant, caught_up: Any) -> None:
    order = seeded.place()
    seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "check"}, 200)
    seeded.ok(f"/v1/orders/{order['id']}/release", {}, 200)
    caught_up()
    with seeded.container.datastore.transaction(commit=True) as curs:
        curs.execute(
            "DELETE FROM kontor_events WHERE originator_id = %s AND originator_version = %s",
            (order["id"], order["version"] + 1),
        )
        curs.execute(
            "INSERT INTO kontor_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version + 10, topic, state FROM kontor_events "
            "WHERE originator_id = %s AND originator_version = 1",
            (order["id"],),
        )
    problems = [
        b["problem"]
        for b in seeded.get("/v1/audit/verify", params={"stream": order["id"]}).json()["breaks"]
    ]
    assert f"version {order['version'] + 1} is missing" in problems
    assert any("missing" in p or "hash" in p for p in problems[1:])
    tenant_wide = seeded.get("/v1/audit/verify").json()
    assert "anchored event is missing from the store" in {
        b["problem"] for b in tenant_wide["breaks"]
    }
