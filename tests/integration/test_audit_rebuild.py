"""Rebuilding the audit index gives the same rows and never rewrites the anchor chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.postgres.chain import verify
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from projections.rebuild import rebuild
from tests.integration.relay_support import Writer

SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=2)
    yield built
    built.close()


def rows(container: Container, table: str, tenant: Any) -> list[dict[str, Any]]:
    with container.datastore.transaction() as curs:
        curs.execute(
            f"SELECT * FROM {table} WHERE tenant_id = %s ORDER BY position",  # type: ignore[arg-type]
            (tenant,),
        )
        return list(curs.fetchall())


def test_rebuilding_the_audit_log_keeps_its_rows_and_the_anchor_chain(
    container: Container,
) -> None:
    writer = Writer(container, streams=3)
    writer.write(120)
    first = rebuild("audit_log", container.env | SMALL_POOL)
    log, chain = (
        rows(container, "audit_log", writer.tenant_id),
        rows(container, "audit_chain", writer.tenant_id),
    )
    assert len(log) == len(chain) == 120

    writer.write(30)
    second = rebuild("audit_log", container.env | SMALL_POOL)

    assert first.lag == second.lag == 0
    assert rows(container, "audit_log", writer.tenant_id)[:120] == log
    assert rows(container, "audit_chain", writer.tenant_id)[:120] == chain
    assert len(rows(container, "audit_chain", writer.tenant_id)) == 150
    with container.datastore.get_connection() as conn:
        result = verify(conn, tenant_id=writer.tenant_id)
    assert result.ok, result.breaks
    assert (result.events, result.streams, result.anchored) == (150, 3, 150)
