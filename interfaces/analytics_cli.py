"""`kontor analytics ...`: the ClickHouse projector's status, catch-up and rebuild; and
`kontor seed --days N`, a year (or N days) of history for the analytics to show."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from adapters.embedded.clickhouse import chdb_url, shared_client
from projections.analytics.projector import AnalyticsProjector

analytics = typer.Typer(
    help="ClickHouse analytics: projector status, catch-up, rebuild.", no_args_is_help=True
)


@contextmanager
def _projector() -> Iterator[AnalyticsProjector]:
    from interfaces.bootstrap import build_container
    from interfaces.cli import servers

    with servers() as settings:
        url = settings.clickhouse_url or chdb_url(settings.data_dir)
        try:
            client = shared_client(url)
        except Exception as error:
            raise typer.BadParameter(
                f"cannot open ClickHouse at {url}: {error}. The embedded engine opens in one "
                "process only: stop `kontor serve` first (it projects into it itself)."
            ) from None
        container = build_container(settings, pool_size=2)
        try:
            projector = AnalyticsProjector(container.datastore, client)
            projector.migrate()
            yield projector
        finally:
            container.close()


def _catch_up(projector: AnalyticsProjector, label: str) -> int:
    from interfaces.cli import _progress

    with _progress() as progress:
        task = progress.add_task(label, total=None)
        return projector.catch_up(
            lambda done, total: progress.update(task, completed=done, total=total)
        )


@analytics.command("status")
def status() -> None:
    """The projector's position and how many events lie beyond it."""
    with _projector() as projector:
        table = Table("projector", "position", "lag (events)")
        table.add_row(projector.name, str(projector.position()), str(projector.lag()))
        Console().print(table)


@analytics.command("catch-up")
def catch_up() -> None:
    """Project every event not yet in ClickHouse, then stop."""
    with _projector() as projector:
        done = _catch_up(projector, "projecting")
    typer.echo(json.dumps({"projected": done}))


@analytics.command("rebuild")
def rebuild() -> None:
    """Empty the analytics tables and replay every event into them, with progress."""
    with _projector() as projector:
        projector.reset()
        done = _catch_up(projector, "rebuilding analytics")
    typer.echo(json.dumps({"projected": done}))


def seed_history_command(tenant_id: str | None, *, days: int, orders: int, skus: int) -> None:
    from application.context import CommandContext
    from interfaces.bootstrap import build_container
    from interfaces.cli import _progress, servers
    from interfaces.demo import ensure_demo
    from interfaces.seed import stage_reporter
    from interfaces.seed_history import seed_history

    with servers() as settings:
        api_key = None
        if tenant_id is None:
            demo = ensure_demo(settings, skus=skus, orders=0)
            tenant_id, api_key = demo.tenant_id, demo.api_key
        container = build_container(settings, pool_size=4)
        try:
            ctx = CommandContext(tenant_id=UUID(tenant_id), actor="system:seed")
            with _progress() as progress:
                result = seed_history(
                    container, ctx, days=days, orders=orders, skus=skus,
                    progress=stage_reporter(progress),
                )  # fmt: skip
        finally:
            container.close()
    typer.echo(json.dumps({"tenant_id": tenant_id, "api_key": api_key, **result}))
