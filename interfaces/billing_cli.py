"""`kontor billing ...`: tax and FX rates, store policies, exemptions, webhook secrets, and the
invoicing worker."""

from __future__ import annotations

import csv
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from application.billing import InvoiceOn, StorePolicy
from domain.invoice.pricing import TaxRounding

if TYPE_CHECKING:
    from adapters.postgres.billing import PostgresBillingConfig

billing = typer.Typer(
    help="Invoicing configuration and the invoicing worker.", no_args_is_help=True
)


@contextmanager
def _config() -> Iterator[PostgresBillingConfig]:
    """The billing configuration on the configured (or embedded) database, for one command."""
    from interfaces.bootstrap import build_container
    from interfaces.cli import servers

    with servers() as settings:
        container = build_container(settings, pool_size=1)
        try:
            yield container.billing
        finally:
            container.close()


@billing.command("invoicing")
def invoicing() -> None:
    """Run the invoicing process manager as a worker until Ctrl-C / SIGTERM."""
    from interfaces.cli import servers
    from interfaces.invoicing_worker import start_invoicing

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    with servers() as settings:
        stop = start_invoicing(settings)
        try:
            stopping.wait()
        finally:
            stop()


@billing.command("tax-rate")
def tax_rate(
    tenant: UUID,
    country: str,
    rate: Annotated[str, typer.Argument(help="a fraction: 0.19 for 19%")],
    region: Annotated[str | None, typer.Option(help="state or region within the country")] = None,
) -> None:
    """Set the tax rate of a country (or of a region in it)."""
    value = Decimal(rate)
    if not Decimal(0) <= value <= Decimal(1):
        raise typer.BadParameter("rate is a fraction from 0 to 1")
    with _config() as config:
        config.set_tax_rate(tenant, country.upper(), region, value)
    typer.echo(f"{country.upper()}{'/' + region if region else ''}: {value}")


@billing.command("fx-load")
def fx_load(
    tenant: UUID,
    path: Annotated[Path, typer.Argument(help="CSV: currency,rate,valid_from[,base_currency]")],
) -> None:
    """Load exchange rates to the tenant's base currency from a CSV file, with progress."""
    from interfaces.cli import _progress

    with _config() as config:
        base = config.tenant(tenant).base_currency
        rows: list[tuple[str, str, datetime, Decimal]] = []
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    valid_from = datetime.fromisoformat(row["valid_from"])
                    rows.append(
                        (
                            row["currency"].strip().upper(),
                            (row.get("base_currency") or base).strip().upper(),
                            valid_from if valid_from.tzinfo else valid_from.replace(tzinfo=UTC),
                            Decimal(row["rate"]),
                        )
                    )
                except (KeyError, ValueError, InvalidOperation) as error:
                    raise typer.BadParameter(f"row {number}: {error}") from error
        with _progress() as progress:
            task = progress.add_task("loading fx rates", total=len(rows))
            for start in range(0, len(rows), 500):
                config.set_fx_rates(tenant, rows[start : start + 500])
                progress.update(task, advance=len(rows[start : start + 500]))
    typer.echo(f"loaded {len(rows)} rates")


@billing.command("store-policy")
def store_policy(
    tenant: UUID,
    store: str,
    invoice_on: Annotated[InvoiceOn, typer.Option()] = InvoiceOn.SHIPMENT,
    prices_include_tax: Annotated[bool, typer.Option()] = False,
    tax_rounding: Annotated[TaxRounding, typer.Option()] = TaxRounding.LINE,
    payment_terms_days: Annotated[int, typer.Option(min=0, max=365)] = 30,
) -> None:
    """Set how a store invoices: on shipment or on order, tax-inclusive prices, rounding."""
    policy = StorePolicy(
        invoice_on=invoice_on,
        prices_include_tax=prices_include_tax,
        tax_rounding=tax_rounding,
        payment_terms_days=payment_terms_days,
    )
    with _config() as config:
        config.set_store_policy(tenant, store, policy)
    typer.echo(f"{store}: {policy}")


@billing.command("exempt")
def exempt(tenant: UUID, email: str, reason: str) -> None:
    """Mark a customer (by email) tax exempt."""
    with _config() as config:
        config.set_exemption(tenant, email, reason)
    typer.echo(f"{email}: exempt ({reason})")


@billing.command("webhook-secret")
def webhook_secret(tenant: UUID, gateway: str, secret: str) -> None:
    """Set the secret a payment gateway signs this tenant's webhooks with."""
    with _config() as config:
        config.set_webhook_secret(tenant, gateway, secret)
    typer.echo(f"{gateway}: secret set")
