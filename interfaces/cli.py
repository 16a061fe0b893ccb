"""The `kontor` command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from uuid import UUID

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from interfaces.config import Settings, load_settings

app = typer.Typer(help="Kontor: event-sourced commerce operations engine.", no_args_is_help=True)
tenants = typer.Typer(help="Merchant accounts and their API keys.", no_args_is_help=True)
projections = typer.Typer(help="Postgres read models.", no_args_is_help=True)
app.add_typer(tenants, name="tenants")
app.add_typer(projections, name="projections")
reservations = typer.Typer(help="Stock reservations.", no_args_is_help=True)
app.add_typer(reservations, name="reservations")
console = Console(stderr=True)

from interfaces.billing_cli import billing  # noqa: E402

app.add_typer(billing, name="billing")

from interfaces.analytics_cli import analytics  # noqa: E402

app.add_typer(analytics, name="analytics")


@contextmanager
def servers() -> Iterator[Settings]:
    """The configured database, or the embedded PostgreSQL in KONTOR_DATA_DIR, migrated.

    Commands other than `serve` need no NATS; an embedded PostgreSQL is shared safely with a
    running `kontor serve` (it stops when its last user does).
    """
    from adapters.embedded.services import EmbeddedServices
    from interfaces.bootstrap import migrate

    with EmbeddedServices(load_settings(), database_only=True) as settings:
        migrate(settings)
        yield settings


@app.command()
def serve(
    workers: Annotated[int, typer.Option(help="API worker processes")] = 1,
    demo: Annotated[bool, typer.Option(help="create and seed the demo tenant")] = True,
    projectors: Annotated[bool, typer.Option(help="run the projectors in this process")] = True,
    host: Annotated[str | None, typer.Option(help="default KONTOR_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default KONTOR_PORT or 8000")] = None,
) -> None:
    """Serve the API (starting embedded servers for every unset KONTOR_*_URL)."""
    from dataclasses import replace

    from interfaces.serve import serve as run

    settings = load_settings()
    settings = replace(settings, host=host or settings.host, port=port or settings.port)
    run(settings, workers=workers, demo=demo, projectors=projectors)


@app.command()
def migrate() -> None:
    """Create or update every table."""
    with servers():
        console.print("[green]schema is up to date[/]")


@tenants.command("create")
def create_tenant(name: str) -> None:
    """Create a tenant; prints JSON with tenant_id and api_key (shown once)."""
    from interfaces.bootstrap import build_container

    with servers() as settings:
        container = build_container(settings, pool_size=2)
        try:
            created = container.tenants.create(name)
        finally:
            container.close()
    typer.echo(json.dumps({"tenant_id": str(created.tenant_id), "api_key": created.api_key}))


@app.command()
def seed(
    tenant_id: Annotated[
        str | None, typer.Option(help="seed this tenant (default: the demo tenant)")
    ] = None,
    orders: Annotated[int, typer.Option(help="orders to place")] = 300,
    skus: Annotated[int, typer.Option(help="products to define")] = 50,
    days: Annotated[
        int, typer.Option(help="spread the orders over this many past days (analytics history)")
    ] = 0,
) -> None:
    """Seed demo data: stores, locations, products, stock and orders."""
    if days > 0:
        from interfaces.analytics_cli import seed_history_command

        seed_history_command(tenant_id, days=days, orders=orders, skus=skus)
        return
    from application.context import CommandContext
    from interfaces.bootstrap import build_container
    from interfaces.demo import ensure_demo
    from interfaces.seed import seed as run_seed
    from interfaces.seed import stage_reporter

    with servers() as settings:
        if tenant_id is None:
            demo_id, api_key = ensure_demo(settings, skus=skus, orders=orders)
            typer.echo(json.dumps({"tenant_id": str(demo_id), "api_key": api_key}))
            return
        container = build_container(settings, pool_size=4)
        try:
            ctx = CommandContext(tenant_id=UUID(tenant_id), actor="system:seed")
            with _progress() as progress:
                result = run_seed(
                    container, ctx, skus=skus, orders=orders, progress=stage_reporter(progress)
                )
        finally:
            container.close()
    typer.echo(json.dumps(result))


@app.command()
def project() -> None:
    """Run the Postgres projectors as a worker until Ctrl-C / SIGTERM."""
    from interfaces.workers import run_projectors

    with servers() as settings:
        run_projectors(settings)


@projections.command("status")
def projections_status() -> None:
    """Position and lag of every read model."""
    from interfaces.bootstrap import build_container
    from projections.runner import statuses

    with servers() as settings:
        container = build_container(settings, pool_size=1)
        try:
            current = statuses(container.datastore)
        finally:
            container.close()
    table = Table("projection", "position", "lag (events)")
    for row in current:
        table.add_row(row.name, str(row.position), str(row.lag))
    Console().print(table)


@projections.command("rebuild")
def projections_rebuild(name: str) -> None:
    """Empty a read model and replay every event into it, with progress."""
    from adapters.postgres.event_store import library_env
    from projections.runner import PROJECTIONS, rebuild

    if name not in PROJECTIONS:
        raise typer.BadParameter(
            f"unknown projection {name!r}; choose from {', '.join(PROJECTIONS)}"
        )
    with servers() as settings:
        assert settings.database_url is not None
        env = library_env(settings.database_url, pool_size=2)
        with _progress() as progress:
            task = progress.add_task(f"rebuilding {name}", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            final = rebuild(name, env, progress=report)
    console.print(f"[green]{name} rebuilt[/] at position {final.position}, lag {final.lag}")


@reservations.command("expire")
def reservations_expire(
    limit: Annotated[int, typer.Option(help="most orders to expire in this run")] = 10_000,
) -> None:
    """Release the stock of orders left unconfirmed past their store's reservation TTL.

    Safe to run twice, or beside `kontor serve` (which runs it every minute): an order expires
    once."""
    from interfaces.bootstrap import build_container

    with servers() as settings:
        container = build_container(settings, pool_size=2)
        try:
            with _progress() as progress:
                task = progress.add_task("expiring reservations", total=None)

                def report(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                expired = container.expiry.run_once(limit=limit, progress=report)
        finally:
            container.close()
    console.print(f"[green]{expired} order(s) expired[/]")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def main() -> None:
    try:
        app()
    except psycopg.OperationalError as error:
        console.print(
            f"[red]cannot reach PostgreSQL[/]: {str(error).strip()}\n"
            "Check KONTOR_DATABASE_URL, or unset it to use the embedded PostgreSQL."
        )
        raise SystemExit(2) from None
