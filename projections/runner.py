"""Running, inspecting and rebuilding the Postgres read models."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from adapters.postgres.event_store import APPLICATION_NAME, KontorEvents
from projections.base import View, ViewProjection
from projections.inventory import InventoryProjection, InventoryView
from projections.orders import OrdersProjection, OrdersView

PROJECTIONS: dict[str, tuple[type[ViewProjection], type[View]]] = {
    OrdersProjection.name: (OrdersProjection, OrdersView),
    InventoryProjection.name: (InventoryProjection, InventoryView),
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


def status(view: View, name: str) -> ProjectionStatus:
    projection_class, _ = PROJECTIONS[name]
    position = view.max_tracking_id(APPLICATION_NAME) or 0
    with view.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            "SELECT count(*) AS lag FROM kontor_events "
            "WHERE notification_id > %s AND topic = ANY(%s)",
            (position, list(projection_class.topics)),
        )
        row = curs.fetchone()
    return ProjectionStatus(name, position, int(row["lag"]) if row else 0)


def rebuild(
    name: str, env: dict[str, str], progress: Callable[[int, int], None] | None = None
) -> ProjectionStatus:
    """Empties the view, replays every event into it, and returns once it has caught up."""
    view = construct_view(name, env)
    try:
        view.reset()
        backlog = status(view, name).lag
        projection_class, view_class = PROJECTIONS[name]
        with ProjectionRunner(
            application_class=KontorEvents,
            projection_class=projection_class,
            view_class=view_class,
            env=env,
        ) as runner:
            while True:
                current = status(view, name)
                if progress is not None:
                    progress(backlog - current.lag, backlog)
                if current.lag == 0:
                    break
                runner.run_forever(timeout=0.2)
        return status(view, name)
    finally:
        view.datastore.close()


def wait_until_caught_up(env: dict[str, str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    views = {name: construct_view(name, env) for name in PROJECTIONS}
    try:
        while time.monotonic() < deadline:
            if all(status(view, name).lag == 0 for name, view in views.items()):
                return
            time.sleep(0.02)
    finally:
        for view in views.values():
            view.datastore.close()
    raise TimeoutError("projections did not catch up in time")
