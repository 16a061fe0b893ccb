"""Live updates: which kinds of record changed for a tenant, pushed to its dashboards by
server-sent events once the read models have applied the change (ADR 0041).

One `ChangeFeed` per process polls the tracked positions of the read models the dashboard
shows. When they move, it reads the tenant and aggregate kind of the events they have applied,
and wakes the listeners of those tenants. The pages then re-fetch the fragments that
show those kinds: the stream carries no data, so what a principal may see is decided where it
always is, by the page routes. The position is each message's SSE id: a browser reconnecting
sends it back as Last-Event-ID, and is told to refresh everything if it missed anything."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import anyio
import msgspec
import structlog
from litestar import Controller, Litestar, Request, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from projections.runner import PROJECTIONS

log = structlog.get_logger()

FOLLOWED = ("orders_view", "inventory_levels", "shipments_view", "returns_view", "invoices_view")
"""The read models the dashboard pages read. Each follows its own topics, so each tracks its own
position: an event is announced once every followed read model of its topic has applied it."""
POLL_SECONDS = 0.25
STREAM_SECONDS = 20.0
"""A stream ends after this long and the browser reconnects (1 s later, resuming from its last
id): so the guard re-checks the session regularly, and a server shutting down, which waits for
open requests, waits at most this long."""
SCAN_LIMIT = 5_000
EVERYTHING = "*"


def _views_of_topics() -> dict[str, list[str]]:
    views: dict[str, list[str]] = defaultdict(list)
    for name in FOLLOWED:
        for topic in PROJECTIONS[name][0].topics:
            views[topic].append(name)
    return views


class Change(msgspec.Struct, frozen=True):
    position: int
    kinds: list[str]


@dataclass
class ChangeFeed:
    container: Container
    position: int = 0
    listeners: dict[UUID, set[asyncio.Queue[Change]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    task: asyncio.Task[None] | None = None
    views_of_topics: dict[str, list[str]] = field(default_factory=_views_of_topics)

    async def start(self) -> None:
        self.task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def subscribe(
        self, tenant_id: UUID, last_seen: int | None, seconds: float = STREAM_SECONDS
    ) -> AsyncIterator[Change]:
        """Changes for one tenant for `seconds`; first a catch-up if `last_seen` is behind."""
        queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=64)
        self.listeners[tenant_id].add(queue)
        deadline = asyncio.get_running_loop().time() + seconds
        try:
            if last_seen is not None and last_seen < self.position:
                yield Change(self.position, [EVERYTHING])
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                try:
                    yield await asyncio.wait_for(queue.get(), left)
                except TimeoutError:
                    return
        finally:
            self.listeners[tenant_id].discard(queue)
            if not self.listeners[tenant_id]:
                del self.listeners[tenant_id]

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await self._poll()
            except Exception as error:  # a database hiccup must not end live updates
                log.warning("dashboard change feed poll failed", error=repr(error))

    async def _poll(self) -> None:
        positions = await anyio.to_thread.run_sync(self._tracked)
        if max(positions.values()) <= self.position:
            return
        listening = bool(self.listeners)
        changed, upto = await anyio.to_thread.run_sync(self._applied, positions, listening)
        if not listening and upto > self.position:
            # A page that subscribed while the events' tenants went unread was told nothing
            # had changed since its position: it refreshes everything instead.
            changed = {tenant_id: {EVERYTHING} for tenant_id in self.listeners}
        self.position = upto
        for tenant_id, kinds in changed.items():
            for queue in list(self.listeners.get(tenant_id, ())):
                _announce(queue, Change(upto, sorted(kinds)))

    def _tracked(self) -> dict[str, int]:
        parts = " UNION ALL ".join(
            f"SELECT '{name}' AS name, coalesce(max(notification_id), 0) AS position "
            f"FROM {name}_tracking"
            for name in FOLLOWED
        )
        with self.container.datastore.transaction() as curs:
            curs.execute(parts)  # type: ignore[arg-type]
            return {row["name"]: int(row["position"]) for row in curs.fetchall()}

    def _applied(
        self, positions: dict[str, int], tenants: bool
    ) -> tuple[dict[UUID, set[str]], int]:
        """Per tenant, the kinds of aggregate changed by the events after `self.position` that
        every read model following them has applied; and the position up to which all events
        are applied (the scan stops at the first one still pending). With nobody listening,
        only that position: the events' tenants are not read."""
        tenant = "convert_from(state, 'UTF8')::jsonb #>> '{meta,tenant_id}'" if tenants else "NULL"
        with self.container.datastore.transaction() as curs:
            curs.execute(
                f"SELECT notification_id, topic, {tenant} AS tenant "  # type: ignore[arg-type]
                "FROM kontor_events WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s",
                (self.position, max(positions.values()), SCAN_LIMIT),
            )
            rows = curs.fetchall()
        changed: dict[UUID, set[str]] = defaultdict(set)
        upto = self.position
        for row in rows:
            position = int(row["notification_id"])
            views = self.views_of_topics.get(row["topic"], [])
            if any(positions[view] < position for view in views):
                break
            upto = position
            if views and row["tenant"]:
                changed[UUID(row["tenant"])].add(row["topic"].split(".", 1)[0])
        return changed, upto


def _announce(queue: asyncio.Queue[Change], change: Change) -> None:
    """Queues `change`; a tab too slow to take its changes gets one `*` in place of them all
    (dropping one would lose it for good: later ids pass it)."""
    try:
        queue.put_nowait(change)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(Change(change.position, [EVERYTHING]))


class LiveController(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/live", permission=Permission.SELF)
    async def live(
        self, request: Request[Any, Any, Any], principal: Principal, since: str | None = None
    ) -> ServerSentEvent:
        """Server-sent events: `ready` on connect, then `change` with the kinds of record that
        changed (`*`: refresh everything), for STREAM_SECONDS; then the browser reconnects.
        Each id is a position to resume from: a reconnect
        sends it as Last-Event-ID; a first connection may give `since`, the position its page
        was rendered at."""
        if "text/event-stream" not in request.headers.get("accept", ""):
            raise ApiProblem(
                406, "not_acceptable", "this is an event stream: send Accept: text/event-stream"
            )
        feed: ChangeFeed = request.app.state.change_feed
        last = request.headers.get("last-event-id") or since or ""
        last_seen = int(last) if last.isdigit() else None

        async def messages() -> AsyncIterator[ServerSentEventMessage]:
            # The browser resends the last id it got: while a catch-up is due, `ready` must not
            # carry an id past it, or a drop before the catch-up arrives would skip it.
            behind = last_seen is not None and last_seen < feed.position
            ready = last_seen if behind else feed.position
            yield ServerSentEventMessage(event="ready", data="{}", id=str(ready))
            async for change in feed.subscribe(principal.tenant_id, last_seen):
                data = msgspec.json.encode({"kinds": change.kinds}).decode()
                yield ServerSentEventMessage(event="change", data=data, id=str(change.position))

        return ServerSentEvent(messages(), retry_duration=1000)


def live_lifespan(container: Container) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        feed = ChangeFeed(container)
        await feed.start()
        app.state.change_feed = feed
        try:
            yield
        finally:
            await feed.stop()

    return lifespan
