"""Running, inspecting and rebuilding the Postgres read models."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from adapters.postgres.event_store import APPLICATION_NAME, KontorEvents
from projections.audit_log import AuditLogProjection, AuditLogView
from projections.base import View, ViewProjection
from projections.billing import InvoicesProjection, InvoicesView, LedgerProjection, LedgerView
from projections.inventory import InventoryProjection, InventoryView
from projections.orders import OrdersProjection, OrdersView
from projections.relay import seconds_since
from projections.returns import ReturnsProjection, ReturnsView
from projections.shipments import ShipmentsProjection, ShipmentsView

PROJECTIONS: dict[str, tuple[type[ViewProjection], type[View]]] = {
    OrdersProjection.name: (OrdersProjection, OrdersView),
    InventoryProjection.name: (InventoryProjection, InventoryView),
    ShipmentsProjection.name: (ShipmentsProjection, ShipmentsView),
    ReturnsProjection.name: (ReturnsProjection, ReturnsView),
    InvoicesProjection.name: (InvoicesProjection, InvoicesView),
    LedgerProjection.name: (LedgerProjection, LedgerView),
    AuditLogProjection.name: (AuditLogProjection, AuditLogView),
}


class ProjectionStatus(msgspec.Struct, frozen=True):
    name: str
    position: int
    lag: int
    lag_seconds: float = 0.0


def construct_view(name: str, env: dict[str, str]) -> View:
    _, view_class = PROJECTIONS[name]
    factory: Any = InfrastructureFactory.construct(Environment(name, env))
    return factory.tracking_recorder(view_class)  # type: ignore[no-any-return]


# Each runner has two pools (the events it reads, the view it writes), opened at their minimum
# size: one connection each at rest, two more each under load. With six read models, a pool
# minimum of 2 kept 24 connections open per process, most of them idle.
RUNNER_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2", "CREATE_TABLE": "n"}


def start_runners(env: dict[str, str]) -> list[ProjectionRunner[Any, Any]]:
    runners: list[ProjectionRunner[Any, Any]] = []
    for projection_class, view_class in PROJECTIONS.values():
        runners.append(
            ProjectionRunner(
                application_class=KontorEvents,
                projection_class=projection_class,
                view_class=view_class,
                env=env | RUNNER_POOL,
            )
        )
    return runners


def status(datastore: PostgresDatastore, name: str) -> ProjectionStatus:
    """A projection's tracked position, how many of its events lie beyond it (counting
    committed events the sequencer has not placed yet: lag 0 means every committed event is
    projected), and how long ago the oldest of those was recorded."""
    projection_class, _ = PROJECTIONS[name]
    topics = list(projection_class.topics)
    mine = "AND topic = ANY(%(topics)s)" if topics else ""
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            "WITH tracked AS (SELECT coalesce(max(notification_id), 0) AS position "  # type: ignore[arg-type]
            f"FROM {name}_tracking WHERE application_name = %(app)s) "  # names are ours
            "SELECT position, (SELECT count(*) FROM kontor_events "
            f"WHERE (notification_id > position OR notification_id IS NULL) {mine}) AS lag, "
            "(SELECT state FROM kontor_events "
            f"WHERE notification_id > position {mine} ORDER BY notification_id LIMIT 1) AS oldest "
            "FROM tracked",
            {"app": APPLICATION_NAME, "topics": topics},
        )
        row = curs.fetchone()
    assert row is not None
    return ProjectionStatus(
        name, int(row["position"]), int(row["lag"]), seconds_since(row["oldest"])
    )


def statuses(datastore: PostgresDatastore) -> list[ProjectionStatus]:
    return [status(datastore, name) for name in PROJECTIONS]


# Followers of the global order that keep their position in `relay_positions`.
FOLLOWERS = {"nats-relay": "nats", "webhooks": "webhooks"}


def follower_status(datastore: PostgresDatastore, name: str) -> ProjectionStatus:
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            "WITH p AS (SELECT coalesce((SELECT position FROM relay_positions WHERE name = %s), "
            "0) AS position) SELECT p.position, "
            "(SELECT count(*) FROM kontor_events "
            " WHERE notification_id > p.position OR notification_id IS NULL) AS lag, "
            "(SELECT state FROM kontor_events WHERE notification_id > p.position "
            " ORDER BY notification_id LIMIT 1) AS oldest FROM p",
            (FOLLOWERS[name],),
        )
        row = curs.fetchone()
    assert row is not None
    return ProjectionStatus(
        name, int(row["position"]), int(row["lag"]), seconds_since(row["oldest"])
    )


def all_statuses(datastore: PostgresDatastore) -> list[ProjectionStatus]:
    """Every read model, the NATS relay and the webhook fan-out."""
    return statuses(datastore) + [follower_status(datastore, name) for name in FOLLOWERS]


def wait_until_caught_up(datastore: PostgresDatastore, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(current.lag == 0 for current in statuses(datastore)):
            return
        time.sleep(0.02)
    raise TimeoutError("projections did not catch up in time")
