"""`kontor seed --days`: a history of orders spread over past days, for the demo tenant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from interfaces.cli import app
from tests.support.keys import secret_key_env


def test_seed_with_days_spreads_orders_over_the_past_for_a_new_demo_tenant(
    settings: Any, tmp_path: Path, container: Any
) -> None:
    env = {
        "KONTOR_DATABASE_URL": settings.database_url,
        "KONTOR_DATA_DIR": str(tmp_path),  # no demo tenant there yet: one is created
        **secret_key_env(settings),
    }
    result = CliRunner().invoke(
        app, ["seed", "--days", "30", "--orders", "12", "--skus", "4"], env=env
    )
    assert result.exit_code == 0, result.output
    seeded = json.loads(result.stdout.strip().splitlines()[-1])
    assert seeded["orders"] + seeded["refused"] == 12
    assert seeded["api_key"].startswith("kontor_")
    with container.datastore.transaction() as curs:
        curs.execute(
            "SELECT min((convert_from(state, 'UTF8')::jsonb #>> '{data,placed_at}')::timestamptz) "
            "AS first "
            "FROM kontor_events WHERE topic = 'order.OrderPlaced' "
            "AND convert_from(state, 'UTF8')::jsonb #>> '{meta,tenant_id}' = %s",
            (seeded["tenant_id"],),
        )
        first = curs.fetchone()["first"]

    assert first is not None
    assert first < datetime.now(UTC) - timedelta(days=2)
