"""The NATS relay: every event exactly once, in per-stream order, across kills and NATS restarts."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import nats
import pytest
from typer.testing import CliRunner

from adapters.embedded.nats import start_nats
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.cli import app
from interfaces.config import Settings
from interfaces.workers import start_relay_thread
from projections.relay import PositionAheadOfStore, Relay, RelayConfig
from tests.integration.relay_support import (
    Writer,
    assert_exactly_once_in_order,
    last_position,
    read_stream,
    relayed_position,
)
from tests.support.keys import secret_key_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=2)
    yield built
    built.close()


@pytest.fixture
def names(run_id: str) -> tuple[str, str, str]:
    """A stream, subject prefix and position name of this test's own (the NATS may be shared)."""
    token = f"{run_id}{uuid4().hex[:6]}"
    return f"KONTOR_TEST_{token}", f"kt{token}", f"test-{token}"


def wait_until_relayed(database_url: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    target = last_position(database_url)
    while relayed_position(database_url, name) < target:
        assert time.monotonic() < deadline, "the relay did not catch up"
        time.sleep(0.1)


class RelayThread:
    """The relay in this process, on a thread of its own."""

    def __init__(self, config: RelayConfig) -> None:
        self.stop, self.join = start_relay_thread(config)

    def __enter__(self) -> RelayThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_relay_process(
    settings: Settings, stream: str, prefix: str, name: str
) -> subprocess.Popen[bytes]:
    env = (
        os.environ
        | secret_key_env(settings)
        | {
            "KONTOR_DATABASE_URL": str(settings.database_url),
            "KONTOR_NATS_URL": str(settings.nats_url),
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from interfaces.cli import main; main()",
            "relay",
            "--stream",
            stream,
            "--prefix",
            prefix,
            "--name",
            name,
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_every_event_is_published_once_with_its_metadata(
    container: Container, settings: Settings, names: tuple[str, str, str]
) -> None:
    stream, prefix, name = names
    writer = Writer(container, streams=5)
    writer.write(50)
    assert settings.nats_url is not None
    assert settings.database_url is not None
    with RelayThread(RelayConfig(settings.database_url, settings.nats_url, stream, prefix, name)):
        wait_until_relayed(settings.database_url, name)
        writer.write(25)  # while running: woken by the append's NOTIFY
        wait_until_relayed(settings.database_url, name)
    headers = read_stream(settings.nats_url, stream, prefix)
    assert_exactly_once_in_order(headers, writer)
    first = next(h for h in headers if h["subject"].split(".")[1] == str(writer.tenant_id))
    assert first["subject"] == f"{prefix}.{writer.tenant_id}.probe.ProbeTicked"
    assert first["Kontor-Version"] == "1"
    assert {"Kontor-Correlation-Id", "Kontor-Recorded-At", "Kontor-Schema-Version"} <= first.keys()
    assert len(first["Kontor-Hash"]) == 64


def test_kontor_tail_resumes_a_durable_consumer(
    container: Container, settings: Settings, names: tuple[str, str, str]
) -> None:
    stream, prefix, name = names
    assert settings.nats_url is not None
    assert settings.database_url is not None
    writer = Writer(container, streams=2)
    writer.write(10)
    env = {"KONTOR_NATS_URL": settings.nats_url}
    tail = ["tail", "--subject", f"{prefix}.{writer.tenant_id}.>", "--stream", stream]
    tail += ["--durable", f"d{name}", "--idle-exit", "1"]
    with RelayThread(RelayConfig(settings.database_url, settings.nats_url, stream, prefix, name)):
        wait_until_relayed(settings.database_url, name)
        first = CliRunner().invoke(app, tail, env=env)
        writer.write(3)
        wait_until_relayed(settings.database_url, name)
        second = CliRunner().invoke(app, tail, env=env)
    assert first.exit_code == 0, first.output
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(lines) == 10
    assert lines[0]["data"] == {"n": 0}
    assert [json.loads(line)["data"]["n"] for line in second.stdout.splitlines()] == [5, 6, 7]


def test_a_second_relay_waits_and_takes_over_when_the_first_stops(
    container: Container, settings: Settings, names: tuple[str, str, str]
) -> None:
    stream, prefix, name = names
    assert settings.nats_url is not None
    assert settings.database_url is not None
    config = RelayConfig(settings.database_url, settings.nats_url, stream, prefix, name)
    writer = Writer(container, streams=3)
    first = RelayThread(config)
    writer.write(30)
    wait_until_relayed(settings.database_url, name)  # the first one holds the lock
    with RelayThread(config):
        writer.write(30)
        wait_until_relayed(settings.database_url, name)
        first.__exit__()
        writer.write(30)
        wait_until_relayed(settings.database_url, name)  # only the second one is left
    assert_exactly_once_in_order(read_stream(settings.nats_url, stream, prefix), writer)


def test_a_relay_killed_at_random_points_neither_loses_nor_repeats(
    container: Container, settings: Settings, names: tuple[str, str, str]
) -> None:
    stream, prefix, name = names
    assert settings.nats_url is not None
    assert settings.database_url is not None
    writer = Writer(container)
    rng = random.Random(os.environ.get("PYTEST_XDIST_WORKER", "0"))
    with writer.writing_in_background(3_000) as background:
        for _ in range(4):
            process = start_relay_process(settings, stream, prefix, name)
            time.sleep(rng.uniform(0.8, 2.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
        background.join()
    process = start_relay_process(settings, stream, prefix, name)
    try:
        wait_until_relayed(settings.database_url, name)
    finally:
        process.terminate()
        process.wait()
    assert_exactly_once_in_order(read_stream(settings.nats_url, stream, prefix), writer)


def test_the_relay_waits_out_a_nats_restart(
    container: Container, settings: Settings, names: tuple[str, str, str], tmp_path: Path
) -> None:
    stream, prefix, name = names
    assert settings.database_url is not None
    own = start_nats(tmp_path)
    port = int(own.url.rsplit(":", 1)[1])
    writer = Writer(container)
    config = RelayConfig(settings.database_url, own.url, stream, prefix, name, ack_timeout=1.0)
    try:
        with RelayThread(config):
            writer.write(500)
            time.sleep(0.5)
            own.stop()
            writer.write(500)  # commands keep being accepted while NATS is down
            time.sleep(1.5)
            own = start_nats(tmp_path, port=port)
            writer.write(500)
            wait_until_relayed(settings.database_url, name)
        assert_exactly_once_in_order(read_stream(own.url, stream, prefix), writer)
    finally:
        own.stop()


def test_a_relay_ahead_of_a_restored_store_refuses_to_publish_and_says_what_to_do(
    container: Container, settings: Settings, names: tuple[str, str, str]
) -> None:
    stream, prefix, name = names
    assert settings.nats_url is not None
    assert settings.database_url is not None
    nats_url, config = (
        settings.nats_url,
        RelayConfig(settings.database_url, settings.nats_url, stream, prefix, name),
    )
    Writer(container, streams=1).write(5)
    end = last_position(settings.database_url)

    async def publish_beyond_the_store() -> None:
        # What JetStream holds after the database was restored from an older backup.
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await Relay(config).ensure_stream(js)
        headers = {"Kontor-Position": str(end + 100), "Nats-Msg-Id": str(uuid4())}
        await js.publish(f"{prefix}.{uuid4()}.probe.ProbeTicked", b"{}", headers=headers)
        await nc.close()

    asyncio.run(publish_beyond_the_store())

    with pytest.raises(PositionAheadOfStore, match=f"nats stream purge {stream}"):
        asyncio.run(asyncio.wait_for(Relay(config)._run(asyncio.Event(), None), 30))
    assert relayed_position(settings.database_url, name) == 0
    assert len(read_stream(nats_url, stream, prefix)) == 1
