"""Tamper evidence as a property: whatever single row is changed, deleted or inserted in SQL,
verify names the first bad event; an honest store verifies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.postgres.chain import event_hash, verify
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from tests.integration.relay_support import Writer


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=2)
    yield built
    built.close()


def rows_of(container: Container, writer: Writer) -> list[dict[str, Any]]:
    with container.datastore.transaction() as curs:
        curs.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state, hash "
            "FROM kontor_events WHERE originator_id = ANY(%s) ORDER BY notification_id",
            (writer.streams,),
        )
        return list(curs.fetchall())


def test_the_python_hash_is_the_one_the_append_computed(container: Container) -> None:
    writer = Writer(container, streams=2)
    writer.write(6, per_append=2)
    previous: dict[Any, bytes | None] = {}
    for row in rows_of(container, writer):
        stream = row["originator_id"]
        expected = event_hash(
            previous.get(stream), stream, row["originator_version"], row["topic"], row["state"]
        )
        assert bytes(row["hash"]) == expected
        previous[stream] = bytes(row["hash"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    tampering=st.sampled_from(["change", "delete", "insert"]),
    pick=st.integers(min_value=0, max_value=10_000),
)
def test_verify_names_the_first_bad_event(container: Container, tampering: str, pick: int) -> None:
    writer = Writer(container, streams=3)
    writer.write(18, per_append=3)
    with container.datastore.get_connection() as conn:
        assert verify(conn, tenant_id=writer.tenant_id).ok
    rows = rows_of(container, writer)
    # A stream's last event has no successor to betray its deletion: the anchors do (API tests).
    candidates = [r for r in rows if r["originator_version"] < writer.versions[r["originator_id"]]]
    target = candidates[pick % len(candidates)]
    stream, version = target["originator_id"], target["originator_version"]
    with container.datastore.transaction(commit=True) as curs:
        if tampering == "change":
            curs.execute(
                "UPDATE kontor_events SET state = convert_to(replace(convert_from(state, 'UTF8'),"
                " '\"n\":', '\"n\": '), 'UTF8') WHERE originator_id = %s "
                "AND originator_version = %s",
                (stream, version),
            )
            expected = target["notification_id"]
        elif tampering == "delete":
            curs.execute(
                "DELETE FROM kontor_events WHERE originator_id = %s AND originator_version = %s",
                (stream, version),
            )
            expected = next(
                r["notification_id"]
                for r in rows
                if r["originator_id"] == stream and r["originator_version"] == version + 1
            )
        else:
            curs.execute(
                "INSERT INTO kontor_events (originator_id, originator_version, topic, state, hash) "
                "SELECT originator_id, %s, topic, state, hash FROM kontor_events "
                "WHERE originator_id = %s AND originator_version = %s "
                "RETURNING originator_id, originator_version",
                (writer.versions[stream] + 1, stream, version),
            )
            inserted = curs.fetchone()
    if tampering == "insert":
        # The forged row takes its place in the global order when the sequencer next runs
        # (any append does that; ADR 0047).
        forged = StoredEvent(inserted["originator_id"], inserted["originator_version"], "", b"")
        [expected] = container.events.recorder.sequence([forged])  # type: ignore[attr-defined]
    with container.datastore.get_connection() as conn:
        by_tenant = verify(conn, tenant_id=writer.tenant_id)
        by_stream = verify(conn, stream_id=stream)
    assert not by_tenant.ok
    assert by_tenant.breaks[0].position == expected
    assert by_stream.breaks[0].position == expected
    assert by_stream.breaks[0].stream_id == stream
