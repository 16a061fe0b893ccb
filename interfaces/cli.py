"""The `kontor` command line."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
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
audit = typer.Typer(
    help="Audit: export, replay and verify the event history.", no_args_is_help=True
)
events_cli = typer.Typer(help="The event catalog.", no_args_is_help=True)
app.add_typer(audit, name="audit")
app.add_typer(events_cli, name="events")
console = Console(stderr=True)

from interfaces.billing_cli import billing  # noqa: E402

app.add_typer(billing, name="billing")
secrets_cli = typer.Typer(help="The keyring that encrypts secrets at rest.", no_args_is_help=True)
app.add_typer(secrets_cli, name="secrets")


@secrets_cli.command("new-key")
def new_key(key_id: Annotated[str, typer.Argument(help="a new, unused key id")]) -> None:
    """Print a new keyring entry: put it first in KONTOR_SECRET_KEY, keep the old ones after it."""
    from adapters.keyring import new_key_entry

    typer.echo(new_key_entry(key_id))


@secrets_cli.command("reencrypt")
def reencrypt_secrets() -> None:
    """Re-encrypt every stored secret under the first key of KONTOR_SECRET_KEY."""
    from adapters.postgres.secrets import reencrypt
    from interfaces.bootstrap import build_container

    with servers() as settings:
        container = build_container(settings, pool_size=1)
        try:
            changed = reencrypt(container.datastore, container.keyring)
        finally:
            container.close()
    console.print(f"re-encrypted {changed} rows under key {container.keyring.current!r}")


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
    relay: Annotated[bool, typer.Option(help="run the NATS relay in this process")] = True,
    host: Annotated[str | None, typer.Option(help="default KONTOR_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default KONTOR_PORT or 8000")] = None,
) -> None:
    """Serve the API (starting embedded servers for every unset KONTOR_*_URL)."""
    from dataclasses import replace

    from interfaces.serve import serve as run

    settings = load_settings()
    settings = replace(settings, host=host or settings.host, port=port or settings.port)
    run(settings, workers=workers, demo=demo, projectors=projectors, relay=relay)


@app.command()
def migrate() -> None:
    """Create or update every table."""
    with servers():
        console.print("[green]schema is up to date[/]")


@tenants.command("create")
def create_tenant(
    name: str,
    owner_email: Annotated[
        str | None, typer.Option(help="also create an owner user who signs in with this email")
    ] = None,
) -> None:
    """Create a tenant; prints JSON with tenant_id and an owner api_key (shown once), and with
    --owner-email, the owner user's generated password (shown once)."""
    import secrets

    from application.access import Role
    from interfaces.bootstrap import build_container

    with servers() as settings:
        container = build_container(settings, pool_size=2)
        try:
            created = container.tenants.create(name)
            result = {"tenant_id": str(created.tenant_id), "api_key": created.api_key}
            if owner_email is not None:
                password = secrets.token_urlsafe(18)
                container.users.add(
                    created.tenant_id, owner_email, password, frozenset({Role.OWNER})
                )
                result |= {"owner_email": owner_email.lower(), "owner_password": password}
        finally:
            container.close()
    typer.echo(json.dumps(result))


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
    from dataclasses import asdict

    from application.context import CommandContext
    from interfaces.bootstrap import build_container
    from interfaces.demo import ensure_demo
    from interfaces.seed import seed as run_seed
    from interfaces.seed import stage_reporter

    with servers() as settings:
        if tenant_id is None:
            demo = ensure_demo(settings, skus=skus, orders=orders)
            typer.echo(json.dumps(asdict(demo)))
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
    """Position and lag of every read model, the NATS relay and the webhook fan-out."""
    from interfaces.bootstrap import build_container
    from projections.runner import all_statuses

    with servers() as settings:
        container = build_container(settings, pool_size=1)
        try:
            current = all_statuses(container.datastore)
        finally:
            container.close()
    table = Table("follower", "position", "lag (events)", "lag (seconds)")
    for row in current:
        table.add_row(row.name, str(row.position), str(row.lag), f"{row.lag_seconds:.1f}")
    Console().print(table)


@projections.command("rebuild")
def projections_rebuild(name: str) -> None:
    """Rebuild a read model from zero beside the live one, then swap it in (stop its projector
    first)."""
    from adapters.postgres.event_store import library_env
    from projections.rebuild import rebuild
    from projections.runner import PROJECTIONS

    if name not in PROJECTIONS:
        raise typer.BadParameter(
            f"unknown projection {name!r}; choose from {', '.join(PROJECTIONS)}"
        )
    from interfaces.bootstrap import install_personal_data

    with servers() as settings:
        assert settings.database_url is not None
        env = library_env(settings.database_url, pool_size=2)
        install_personal_data(settings)
        with _progress() as progress:
            task = progress.add_task(f"rebuilding {name}", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            final = rebuild(name, env, progress=report)
    console.print(f"[green]{name} rebuilt[/] at position {final.position}, lag {final.lag}")


@app.command()
def relay(
    stream: Annotated[str, typer.Option(help="JetStream stream")] = "KONTOR",
    prefix: Annotated[str, typer.Option(help="subject prefix")] = "kontor",
    name: Annotated[str, typer.Option(help="the relay's position name")] = "nats",
) -> None:
    """Relay every committed event to NATS JetStream until Ctrl-C / SIGTERM."""
    from interfaces.workers import run_relay

    with _relay_servers() as settings:
        run_relay(settings, stream=stream, prefix=prefix, name=name)


@app.command()
def tail(
    subject: Annotated[str, typer.Option(help="subject filter")] = "kontor.>",
    durable: Annotated[str | None, typer.Option(help="durable consumer name")] = None,
    stream: Annotated[str, typer.Option(help="JetStream stream")] = "KONTOR",
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many seconds without a message")
    ] = None,
) -> None:
    """Print relayed events (one JSON line each) from a durable pull consumer: run it again
    with the same --durable and it continues after the last message it printed."""
    import asyncio

    from adapters.nats.consumer import tail as run_tail

    def show(message: Any) -> None:
        headers = message.headers or {}
        line = {
            "subject": message.subject,
            "event_id": headers.get("Nats-Msg-Id"),
            "position": int(headers.get("Kontor-Position", 0)),
            "data": json.loads(message.data),
        }
        typer.echo(json.dumps(line))

    settings = load_settings()
    if settings.nats_url is None:
        raise typer.BadParameter("set KONTOR_NATS_URL to the NATS server the relay publishes to")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_tail(
                settings.nats_url,
                subject,
                show,
                stream=stream,
                durable=durable,
                idle_exit=idle_exit,
            )
        )


@contextmanager
def _relay_servers() -> Iterator[Settings]:
    """PostgreSQL as for every command, plus the configured NATS (the embedded one otherwise)."""
    from adapters.embedded.services import EmbeddedServices

    settings = load_settings()
    if settings.nats_url is not None:
        with servers() as resolved:
            yield resolved
        return
    with EmbeddedServices(settings) as resolved:
        from interfaces.bootstrap import migrate as run_migrate

        run_migrate(resolved)
        yield resolved


@audit.command("export")
def audit_export(
    tenant: Annotated[str, typer.Option(help="tenant id")],
    from_: Annotated[
        datetime | None, typer.Option("--from", help="recorded at or after (UTC)")
    ] = None,
    to: Annotated[datetime | None, typer.Option(help="recorded before (UTC)")] = None,
) -> None:
    """Stream every event of a tenant with its metadata as JSON lines to stdout."""
    import sys

    import msgspec

    from adapters.postgres.history import all_rows, history_event, last_position
    from interfaces.bootstrap import build_container

    tenant_id = UUID(tenant)
    since, until = (_utc(moment) for moment in (from_, to))
    encode = msgspec.json.Encoder().encode
    out = sys.stdout.buffer
    written = 0
    with servers() as settings:
        container = build_container(settings, pool_size=1)
        try:
            with _progress() as progress:
                task = progress.add_task("exporting", total=last_position(container.datastore))
                for row in all_rows(container.datastore):
                    event = history_event(row)
                    progress.update(task, completed=event.position)
                    if event.tenant_id != tenant_id:
                        continue
                    if (since and event.recorded_at < since) or (
                        until and event.recorded_at >= until
                    ):
                        continue
                    out.write(encode(event) + b"\n")
                    written += 1
        finally:
            container.close()
    out.flush()
    console.print(f"[green]exported {written} events[/]")


@audit.command("replay")
def audit_replay() -> None:
    """Rebuild every aggregate from its events and compare with what the application loads."""
    from adapters.postgres.history import all_recorded, last_position
    from adapters.postgres.snapshots import PostgresSnapshotStore
    from application.audit import replay
    from application.streams import Streams
    from interfaces.bootstrap import build_container

    with servers() as settings:
        container = build_container(settings, pool_size=2)
        try:
            fresh = Streams(container.store, PostgresSnapshotStore(container.datastore))
            with _progress() as progress:
                task = progress.add_task("replaying", total=last_position(container.datastore))
                report = replay(
                    all_recorded(container.datastore),
                    fresh,
                    progress=lambda done: progress.update(task, completed=done),
                )
        finally:
            container.close()
    for mismatch in report.mismatches:
        console.print(
            f"[red]MISMATCH[/] {mismatch.aggregate} {mismatch.stream_id}: {mismatch.detail}"
        )
    for aggregate, count in report.skipped.items():
        console.print(f"[yellow]skipped[/] {count} events of {aggregate} (no aggregate kind)")
    console.print(
        f"replayed {report.events} events of {report.streams} streams: "
        + (
            "[green]every one equals the loaded state[/]"
            if not report.mismatches
            else f"[red]{len(report.mismatches)} mismatches[/]"
        )
    )
    if report.mismatches:
        raise typer.Exit(1)


@audit.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    stream: Annotated[str | None, typer.Option(help="only this stream")] = None,
) -> None:
    """Walk the store and check every hash link; report every broken one (exit 1)."""
    from adapters.postgres.chain import verify
    from interfaces.bootstrap import build_container

    with servers() as settings:
        container = build_container(settings, pool_size=1)
        try:
            with _progress() as progress:
                task = progress.add_task("verifying", total=None)
                with container.datastore.get_connection() as conn:
                    result = verify(
                        conn,
                        stream_id=UUID(stream) if stream else None,
                        tenant_id=UUID(tenant) if tenant else None,
                        progress=lambda done: progress.update(task, completed=done),
                    )
        finally:
            container.close()
    for broken in result.breaks:
        where = f"{broken.stream_id} v{broken.version}" if broken.stream_id else "-"
        console.print(f"[red]BROKEN[/] position {broken.position} {where}: {broken.problem}")
    if result.breaks:
        console.print(
            f"[red]{len(result.breaks)} broken links[/]; first bad event at position "
            f"{result.breaks[0].position}"
        )
        raise typer.Exit(1)
    console.print(
        f"[green]verified[/] {result.events} events in {result.streams} streams, "
        f"{result.anchored} anchored: no broken link"
    )


@events_cli.command("catalog")
def events_catalog(
    output: Annotated[Path | None, typer.Option(help="default docs/events/asyncapi.json")] = None,
) -> None:
    """Regenerate the event catalog (AsyncAPI 3 + JSON Schema) from the event Structs."""
    from interfaces.event_catalog import DOCUMENT, write

    written = write(output or DOCUMENT)
    console.print(f"[green]wrote[/] {written}")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
