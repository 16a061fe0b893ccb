"""The live stream itself (/dashboard/live): what a tenant's dashboards are told, and the
catch-up a reconnecting browser gets. Read over real HTTP as EventSource would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from interfaces.bootstrap import Container
from projections.runner import wait_until_caught_up
from tests.api.conftest import Tenant
from tests.browser.conftest import LIVE_SECONDS


def events(response: httpx.Response) -> Iterator[tuple[str, str, str]]:
    """(event, id, data) of each message; comments (keep-alives) are skipped."""
    event, ident, data = "message", "", ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("id:"):
            ident = line[3:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif line == "" and data:
            yield event, ident, data
            event, ident, data = "message", "", ""


def stream(server: str, tenant: Tenant, last_event_id: str | None = None) -> httpx.Response:
    headers = tenant.headers | {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    client = httpx.Client(base_url=server, timeout=httpx.Timeout(5, read=LIVE_SECONDS + 1))
    return client.send(client.build_request("GET", "/dashboard/live", headers=headers), stream=True)


def caught_up_stream(
    server: str, tenant: Tenant, container: Container
) -> tuple[httpx.Response, Iterator[tuple[str, str, str]]]:
    """A stream opened once the feed has announced every event stored so far."""
    wait_until_caught_up(container.datastore, timeout=20)
    with container.datastore.transaction() as curs:
        curs.execute("SELECT max(notification_id) AS last FROM kontor_events")
        last = int(curs.fetchone()["last"])
    for _ in range(40):
        response = stream(server, tenant)
        messages = events(response)
        event, position, _ = next(messages)
        assert event == "ready"
        if int(position) >= last:
            return response, messages
        response.close()
        time.sleep(0.1)
    pytest.fail("the feed never caught up")


def test_a_tenants_dashboards_hear_of_its_changes_and_not_of_others(
    server: str, seeded: Tenant, other: Tenant, container: Container
) -> None:
    mine, mine_events = caught_up_stream(server, seeded, container)
    theirs, their_events = caught_up_stream(server, other, container)

    other.seed()
    other.place()
    their_kinds: set[str] = set()
    while "order" not in their_kinds:  # within the read timeout, or iter_lines raises
        _, position, data = next(their_events)
        their_kinds |= set(json.loads(data)["kinds"])
    seeded.place()

    event, my_position, data = next(mine_events)
    assert event == "change"
    assert int(my_position) > int(position), "heard of the other tenant's changes"
    assert "order" in json.loads(data)["kinds"]
    mine.close()
    theirs.close()


def test_a_browser_that_missed_changes_is_told_to_refresh_everything(
    server: str, seeded: Tenant
) -> None:
    response = stream(server, seeded)
    _, seen, _ = next(events(response))
    response.close()
    seeded.place()  # while disconnected

    def feed_position() -> int:
        """The position a new stream starts from: where the feed is."""
        fresh = stream(server, seeded)
        _, position, _ = next(events(fresh))
        fresh.close()
        return int(position)

    deadline = time.monotonic() + 20
    while feed_position() <= int(seen):  # until the read models have applied the order
        if time.monotonic() > deadline:
            pytest.fail("the feed's position never moved past the order")
        time.sleep(0.1)

    reply = stream(server, seeded, last_event_id=seen)
    messages = events(reply)
    # `ready` keeps the browser's own position while the catch-up is due: a drop before the
    # catch-up arrives makes the browser ask for it again.
    assert next(messages)[:2] == ("ready", seen)
    event, position, data = next(messages)
    reply.close()
    assert (event, json.loads(data)["kinds"]) == ("change", ["*"])
    assert int(position) > int(seen)


def test_the_stream_needs_an_event_stream_request(server: str, tenant: Tenant) -> None:
    response = httpx.get(f"{server}/dashboard/live", headers=tenant.headers)
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
