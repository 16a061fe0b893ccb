"""Stock movements (written by the inventory projection): one row per ledger movement, exactly
once across restarts and rebuilds, and their effects add up to the levels a fold gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from projections.rebuild import rebuild
from tests.integration.test_projections import SMALL_POOL, Merchant, caught_up, running


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=3)
    yield built
    built.close()


def movements(merchant: Merchant) -> list[tuple[Any, ...]]:
    with merchant.c.datastore.transaction() as curs:
        curs.execute(
            "SELECT stream_id, version, sku, location, kind, quantity, on_hand_change, "
            "reserved_change, order_id, line_no, reference, actor, occurred_at "
            "FROM stock_movements WHERE tenant_id = %s ORDER BY seq",
            (merchant.tenant_id,),
        )
        return [tuple(row.values()) for row in curs.fetchall()]


def sums(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], tuple[int, int]]:
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for row in rows:
        on_hand, reserved = totals.get((row[2], row[3]), (0, 0))
        totals[(row[2], row[3])] = (on_hand + row[6], reserved + row[7])
    return totals


def test_movements_add_up_and_survive_restarts_and_rebuilds(container: Container) -> None:
    merchant = Merchant(container)
    merchant.setup()
    with running(container):
        for command in merchant.first_half():
            command()
    for command in merchant.second_half()[:2]:
        command()  # written while no projector runs
    with running(container):
        for command in merchant.second_half()[2:]:
            command()
        caught_up(container)

    rows = movements(merchant)
    assert len({(row[0], row[1]) for row in rows}) == len(rows)
    levels, _ = merchant.folds()
    assert sums(rows) == {key: (level[0], level[1]) for key, level in levels.items()}

    assert rebuild("inventory_levels", container.env | SMALL_POOL).lag == 0
    assert movements(merchant) == rows
