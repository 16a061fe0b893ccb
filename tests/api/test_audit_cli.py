"""Audit replay over a generated history, and the `kontor audit` commands."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec
from typer.testing import CliRunner

from adapters.postgres.history import all_recorded
from adapters.postgres.snapshots import PostgresSnapshotStore
from application.audit import replay, state_as_of
from application.kinds import STOCK
from application.streams import Streams
from domain.shared.ids import stock_stream_id
from domain.stock.state import Stock
from interfaces.cli import app
from tests.api.conftest import Tenant
from tests.support.keys import secret_key_env


def generate_history(seeded: Tenant, seed: int, orders: int = 40) -> None:
    """Orders of random sizes, some cancelled or held, and enough receipts that the MUG stock
    stream at BER passes a snapshot."""
    rng = random.Random(seed)
    for _ in range(105):
        seeded.receive("BER", MUG=rng.randint(1, 5))
    for _ in range(orders):
        sku = rng.choice(["MUG", "TEE"])
        order = seeded.place(
            store="b2b", lines=[{"sku": sku, "quantity": rng.randint(1, 4), "unit_price": "5.00"}]
        )
        roll = rng.random()
        if roll < 0.3:
            seeded.ok(f"/v1/orders/{order['id']}/cancel", {"reason": "test"}, 200)
        elif roll < 0.5:
            seeded.ok(f"/v1/orders/{order['id']}/hold", {"reason": "test"}, 200)


def fresh_streams(seeded: Tenant) -> Streams:
    datastore = seeded.container.datastore
    return Streams(seeded.container.store, PostgresSnapshotStore(datastore))


def test_replay_equals_what_the_application_loads(seeded: Tenant) -> None:
    generate_history(seeded, seed=7)
    stock = stock_stream_id(seeded.tenant_id, "MUG", "BER")
    assert PostgresSnapshotStore(seeded.container.datastore).get_many([stock]), "no snapshot"
    report = replay(all_recorded(seeded.container.datastore), fresh_streams(seeded))
    with seeded.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT DISTINCT originator_id FROM kontor_events "
            "WHERE convert_from(state, 'UTF8')::jsonb #>> '{meta,tenant_id}' = %s",
            (str(seeded.tenant_id),),
        )
        mine = {row["originator_id"] for row in curs.fetchall()}
    assert len(mine) > 40
    # Other tests tamper with their own tenants' streams in this database on purpose.
    assert [m for m in report.mismatches if m.stream_id in mine] == []


def test_replay_reports_a_snapshot_that_disagrees(seeded: Tenant) -> None:
    generate_history(seeded, seed=11, orders=5)
    stock = stock_stream_id(seeded.tenant_id, "MUG", "BER")
    snapshots = PostgresSnapshotStore(seeded.container.datastore)
    _, body = snapshots.get_many([stock])[stock]
    snapshot = msgspec.json.decode(body)
    snapshot["state"]["on_hand"] = snapshot["state"]["on_hand"] + 1
    with seeded.container.datastore.transaction(commit=True) as curs:
        curs.execute(
            "UPDATE snapshots SET state = %s WHERE stream_id = %s",
            (msgspec.json.encode(snapshot), stock),
        )
    report = replay(all_recorded(seeded.container.datastore), fresh_streams(seeded))
    # (other tests' tampering lives in the same database: look at this tenant's streams only)
    mine = [m.detail for m in report.mismatches if m.stream_id == stock]
    assert len(mine) == 1
    assert "differs from the loaded one" in mine[0]


def test_replay_reports_a_kept_snapshot_that_disagrees(seeded: Tenant) -> None:
    generate_history(seeded, seed=5, orders=2)
    stock = stock_stream_id(seeded.tenant_id, "MUG", "BER")
    with seeded.container.datastore.transaction(commit=True) as curs:
        curs.execute("SELECT version, state FROM snapshot_history WHERE stream_id = %s", (stock,))
        kept = curs.fetchone()
        snapshot = msgspec.json.decode(bytes(kept["state"]))
        snapshot["state"]["reserved"] = snapshot["state"]["reserved"] + 1
        curs.execute(
            "UPDATE snapshot_history SET state = %s WHERE stream_id = %s AND version = %s",
            (msgspec.json.encode(snapshot), stock, kept["version"]),
        )
    report = replay(all_recorded(seeded.container.datastore), fresh_streams(seeded))
    mine = [m.detail for m in report.mismatches if m.stream_id == stock]
    assert mine == [f"kept snapshot at v{kept['version']} differs from the fold"]


def test_cli_exports_and_verifies_a_tenant(seeded: Tenant, settings: Any) -> None:
    seeded.place(headers={"X-Request-Id": "req-export"})
    env = {
        "KONTOR_DATABASE_URL": settings.database_url,
        "KONTOR_DATA_DIR": str(settings.data_dir),
        **secret_key_env(settings),
    }
    runner = CliRunner()
    exported = runner.invoke(app, ["audit", "export", "--tenant", str(seeded.tenant_id)], env=env)
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == seeded.event_count()
    assert {"req-export"} <= {line["request_id"] for line in lines}
    assert all(line["tenant_id"] == str(seeded.tenant_id) for line in lines)
    assert "ada@example.com" in exported.stdout  # personal data opened with the shared keyring
    verified = runner.invoke(app, ["audit", "verify", "--tenant", str(seeded.tenant_id)], env=env)
    assert verified.exit_code == 0, verified.output
    assert "no broken link" in verified.output


def test_state_as_of_is_the_same_with_or_without_the_snapshot(seeded: Tenant) -> None:
    generate_history(seeded, seed=3, orders=10)
    stock = stock_stream_id(seeded.tenant_id, "MUG", "BER")
    no_snapshots = Streams(seeded.container.store)
    latest = seeded.container.streams.load({stock: STOCK})[stock].version
    assert latest > 100
    path = f"/v1/audit/stock/{stock}/state"
    for version in sorted({0, 1, 99, 100, 101, latest - 1, latest}):
        served = seeded.get(path, params={"version": version}).json()
        replayed = state_as_of(
            seeded.container.history,
            no_snapshots,
            seeded.tenant_id,
            "stock",
            stock,
            version=version,
        )
        assert served["version"] == replayed.version == version
        assert msgspec.json.decode(msgspec.json.encode(served["state"]), type=Stock) == (
            replayed.state
        )
        assert replayed.replayed_from == 0
    assert seeded.get(path).json()["replayed_from"] >= 100
    kept = seeded.get(path, params={"version": latest - 1}).json()["replayed_from"]
    assert 100 <= kept < latest  # a kept snapshot shortens a replay into the past
    assert seeded.get(path, params={"at": "2999-01-01T00:00:00Z"}).json()["version"] == latest


def test_cli_projections_status_shows_the_relay_and_lag_in_seconds(settings: Any) -> None:
    result = CliRunner().invoke(
        app,
        ["projections", "status"],
        env={
            "KONTOR_DATABASE_URL": settings.database_url,
            "KONTOR_DATA_DIR": str(settings.data_dir),
        },
    )
    assert result.exit_code == 0, result.output
    for name in ("orders_view", "audit_log", "nats-relay", "webhooks", "lag (seconds)"):
        assert name in result.stdout
