"""A durable JetStream pull consumer over Kontor's subjects: what `kontor tail` runs, and what an
integrator's consumer looks like (fetch a batch, handle each message, ack it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy


async def tail(
    nats_url: str,
    subject: str,
    handle: Callable[[Msg], None],
    *,
    stream: str = "KONTOR",
    durable: str | None = None,
    stop: asyncio.Event | None = None,
    idle_exit: float | None = None,
    batch: int = 500,
) -> int:
    """Delivers every message on `subject` to `handle` in stream order, acking each batch.

    A durable consumer remembers what was acked: a restart resumes after it. Returns the number
    of messages handled, once `stop` is set or nothing arrived for `idle_exit` seconds.
    """
    nc = await nats.connect(nats_url, max_reconnect_attempts=-1)
    handled = 0
    try:
        js = nc.jetstream()
        subscription = await js.pull_subscribe(
            subject,
            durable=durable,
            stream=stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.ALL,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=batch * 4,
            ),
        )
        idle_since = asyncio.get_running_loop().time()
        while stop is None or not stop.is_set():
            try:
                messages = await subscription.fetch(batch, timeout=0.5)
            except TimeoutError:  # nats-py raises its own subclass, or asyncio's
                messages = []
            now = asyncio.get_running_loop().time()
            if not messages:
                if idle_exit is not None and now - idle_since >= idle_exit:
                    break
                continue
            idle_since = now
            for message in messages:
                handle(message)
            handled += len(messages)
            await messages[-1].ack()  # AckPolicy.ALL: acknowledges the whole batch
        await subscription.unsubscribe()
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
    return handled
