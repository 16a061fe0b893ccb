"""`kontor billing ...` against the real database: what each command sets is what the
invoicing use cases read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from application.billing import InvoiceOn
from domain.invoice.pricing import TaxRounding
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.cli import app
from interfaces.config import Settings


@pytest.fixture
def cli(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Runs `kontor` on the test database (the commands read their settings from the env)."""
    assert settings.database_url is not None
    monkeypatch.setenv("KONTOR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KONTOR_DATA_DIR", str(tmp_path))
    return CliRunner()


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=1)
    yield built
    built.close()


@pytest.fixture
def tenant(container: Container) -> UUID:
    return container.tenants.create("billing-cli").tenant_id


def kontor(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, ["billing", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_tax_rates_are_set_per_country_and_region(
    cli: CliRunner, container: Container, tenant: UUID
) -> None:
    assert kontor(cli, "tax-rate", str(tenant), "de", "0.19") == "DE: 0.19\n"
    kontor(cli, "tax-rate", str(tenant), "US", "0.0725", "--region", "CA")

    assert container.billing.tax_rate(tenant, "DE", None) == Decimal("0.19")
    assert container.billing.tax_rate(tenant, "US", "CA") == Decimal("0.0725")
    assert container.billing.tax_rate(tenant, "US", "NY") == 0
    refused = cli.invoke(app, ["billing", "tax-rate", str(tenant), "DE", "19"])
    assert refused.exit_code != 0
    assert "fraction" in refused.output
    assert container.billing.tax_rate(tenant, "DE", None) == Decimal("0.19")


def test_fx_rates_load_from_a_csv_file(
    cli: CliRunner, container: Container, tenant: UUID, tmp_path: Path
) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "currency,rate,valid_from\nusd,0.90,2026-01-01\nUSD,0.92,2026-06-01T00:00:00+00:00\n"
    )
    assert "loaded 2 rates" in kontor(cli, "fx-load", str(tenant), str(rates))

    def rate(at: datetime) -> Decimal | None:
        return container.billing.fx_rate(tenant, "USD", "EUR", at)

    assert rate(datetime(2026, 3, 1, tzinfo=UTC)) == Decimal("0.90")
    assert rate(datetime(2026, 7, 1, tzinfo=UTC)) == Decimal("0.92")
    assert rate(datetime(2025, 7, 1, tzinfo=UTC)) is None
    rates.write_text("currency,rate,valid_from\nUSD,lots,2026-01-01\n")
    refused = cli.invoke(app, ["billing", "fx-load", str(tenant), str(rates)])
    assert refused.exit_code != 0
    assert "row 2" in refused.output


def test_store_policy_exemption_and_webhook_secret(
    cli: CliRunner, container: Container, tenant: UUID
) -> None:
    kontor(
        cli, "store-policy", str(tenant), "web", "--invoice-on", "order",
        "--prices-include-tax", "--tax-rounding", "invoice", "--payment-terms-days", "14",
    )  # fmt: skip
    policy = container.billing.store_policy(tenant, "web")
    assert (policy.invoice_on, policy.prices_include_tax) == (InvoiceOn.ORDER, True)
    assert (policy.tax_rounding, policy.payment_terms_days) == (TaxRounding.INVOICE, 14)

    kontor(cli, "exempt", str(tenant), "buyer@example.org", "reverse charge")
    assert container.billing.exemption(tenant, "buyer@example.org") == "reverse charge"
    assert "secret set" in kontor(cli, "webhook-secret", str(tenant), "stripe", "whsec_0123456789")
    assert container.billing.webhook_secret(tenant, "stripe") == "whsec_0123456789"
