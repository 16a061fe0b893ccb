"""Running, inspecting and rebuilding the Postgres read models."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from adapters.postgres.event_store import APPLICATION_NAME, KontorEvents
from projections.base import View, ViewProjection
from projections.billing import InvoicesProjection, InvoicesView, LedgerProjection, LedgerView
from projections.inventory import InventoryProjection, InventoryView
from projections.orders import OrdersProjection, OrdersView
from projections.shipments import ShipmentsProjection, ShipmentsView

PROJECTIONS: dict[str, tuple[type[ViewProjection], type[View]]] = {
    OrdersProjection.name: (OrdersProjection, OrdersView),
    InventoryProjection.name: (InventoryProjection, InventoryView),
    ShipmentsProjection.name: (ShipmentsProjection, ShipmentsView),
    InvoicesProjection.name: (InvoicesProjection, InvoicesView),
    LedgerProjection.name: (LedgerProjection, LedgerView),
}


class ProjectionStatus(msgspec.Struct, frozen=True):
    name: str
    position: int
    lag: int


def construct_view(name: str, env: dict[str, str]) -> View:
    _, view_class = PROJECTIONS[name]
    factory: Any = InfrastructureFactory.construct(Environment(name, env))
    return factory.tracking_recorder(view_class)  # type: ignore[no-any-return]


def start_runners(env: dict[str, str]) -> list[ProjectionRunner[Any, Any]]:
    runners: list[ProjectionRunner[Any, Any]] = []
    for projection_class, view_class in PROJECTIONS.values():
        runners.append(
            ProjectionRunner(
                application_class=KontorEvents,
                projection_class=projection_class,
                view_class=view_class,
                env=env
                | {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2", "CREATE_TABLE": "n"},
            )
        )
    return runners


def status(datastore: PostgresDatastore, name: str) -> ProjectionStatus:
    """A projection's tracked position and how many of its events lie beyond it."""
    projection_class, _ = PROJECTIONS[name]
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            "WITH tracked AS (SELECT coalesce(max(notification_id), 0) AS position "
            f"FROM {name}_tracking WHERE application_name = %s) "  # names are ours, not input
            "SELECT position, (SELECT count(*) FROM kontor_events "
            "WHERE notification_id > position AND topic = ANY(%s)) AS lag FROM tracked",
            (APPLICATION_NAME, list(projection_class.topics)),
        )
        row = curs.fetchone()
    assert row is not None
    return ProjectionStatus(name, int(row["position"]), int(row["lag"]))


def statuses(datastore: PostgresDatastore) -> list[ProjectionStatus]:
    return [status(datastore, name) for name in PROJECTIONS]


def rebuild(
    name: str, env: dict[str, str], progress: Callable[[int, int], None] | None = None
) -> ProjectionStatus:
    """Empties the view, replays every event into it, and returns once it has caught up."""
    view = construct_view(name, env)
    try:
        view.reset()
        backlog = status(view.datastore, name).lag
        projection_class, view_class = PROJECTIONS[name]
        with ProjectionRunner(
            application_class=KontorEvents,
            projection_class=projection_class,
            view_class=view_class,
            env=env,
        ) as runner:
            while True:
                current = status(view.datastore, name)
                if progress is not None:
                    progress(backlog - current.lag, backlog)
                if current.lag == 0:
                    break
                runner.run_forever(timeout=0.2)
        return status(view.datastore, name)
    finally:
        view.datastore.close()


def wait_until_caught_up(datastore: PostgresDatastore, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(current.lag == 0 for current in statuses(datastore)):
            return
        time.sleep(0.02)
    raise TimeoutError("projections did not catch up in time")
