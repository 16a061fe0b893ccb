"""The dashboard's change feed never loses a change to a page that subscribes mid-poll."""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from uuid import UUID, uuid4

from interfaces.bootstrap import Container
from interfaces.web.live import EVERYTHING, Change, ChangeFeed, _announce
from tests.api.conftest import Tenant


class PausedFeed(ChangeFeed):
    """A feed whose scan of the applied events waits until the test lets it go on."""

    entered: threading.Event
    go_on: threading.Event

    def _applied(self, positions: dict[str, int], tenants: bool) -> Any:
        self.entered.set()
        assert self.go_on.wait(10)
        return super()._applied(positions, tenants)


def test_a_page_subscribing_while_nobody_listened_still_hears_of_the_change(
    seeded: Tenant, container: Container, caught_up: Any
) -> None:
    caught_up()
    feed = PausedFeed(container)
    feed.entered, feed.go_on = threading.Event(), threading.Event()
    feed.go_on.set()
    asyncio.run(feed._poll())  # up to date, with nobody listening
    seeded.ok("/v1/stock/receipts", {"location": "BER", "lines": [{"sku": "MUG", "quantity": 1}]})
    caught_up()

    assert asyncio.run(_subscribe_mid_poll(feed, seeded.tenant_id)).kinds == [EVERYTHING]


async def _subscribe_mid_poll(feed: PausedFeed, tenant_id: UUID) -> Change:
    feed.go_on.clear()
    feed.entered.clear()
    poll = asyncio.create_task(feed._poll())
    await asyncio.to_thread(feed.entered.wait, 10)  # the poll found nobody listening
    stream = feed.subscribe(tenant_id, last_seen=feed.position, seconds=5)
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)  # subscribed at the position the page was read at
    feed.go_on.set()
    await poll
    try:
        return await first
    finally:
        await stream.aclose()


def test_a_tab_too_slow_for_its_changes_is_told_to_refresh_everything(
    container: Container,
) -> None:
    """Changes a stuck tab had no room for are not dropped (a later id would pass them): the
    tab gets a `*` in their place, then what came after it, up to the newest position."""

    async def scenario() -> list[Change]:
        feed = ChangeFeed(container)
        tenant_id = uuid4()
        stream = feed.subscribe(tenant_id, last_seen=None, seconds=5)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        (queue,) = feed.listeners[tenant_id]
        for position in range(1, 200):  # the tab reads nothing meanwhile
            _announce(queue, Change(position, ["stock"]))
        seen = [await first]
        try:
            while not queue.empty():
                seen.append(await anext(stream))
        finally:
            await stream.aclose()
        return seen

    seen = asyncio.run(scenario())
    refresh = next(i for i, change in enumerate(seen) if change.kinds == [EVERYTHING])
    assert [change.position for change in seen[refresh:]] == list(
        range(seen[refresh].position, 200)
    )
