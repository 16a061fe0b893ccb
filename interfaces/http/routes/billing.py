"""Billing configuration: settings, store policies, tax and FX rates, exemptions, webhook
secrets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post

from application.access import Permission, Principal
from application.billing import InvoiceOn, StorePolicy, TenantBilling
from application.context import CommandContext
from application.ports import IdempotentWrite, StoredResponse
from domain.invoice.pricing import TaxRounding
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import (
    BillingSettingsIn,
    ExemptionIn,
    FxRatesIn,
    Saved,
    StorePolicyIn,
    TaxRateIn,
    WebhookSecretIn,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.scope import store_in_scope
from interfaces.http.support import run_command


def _remembered(ctx: CommandContext, body: object) -> IdempotentWrite | None:
    """The idempotency row a configuration write stores in its own transaction."""
    if ctx.idempotency is None:
        return None
    status, encoded, version = ctx.idempotency.render(body)
    return IdempotentWrite(
        ctx.tenant_id,
        ctx.idempotency.key,
        StoredResponse(ctx.idempotency.request_hash, status, encoded, version),
    )


def _save(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    data: object,
    what: str,
    write: Callable[[IdempotentWrite | None], None],
) -> Response[bytes]:
    def run(ctx: CommandContext) -> Saved:
        saved = Saved(what)
        write(_remembered(ctx, saved))
        return saved

    return run_command(request, container, principal, data, run, lambda s: (200, s, None))


class BillingController(Controller):
    path = "/v1/billing"
    tags = ["money"]

    @post(
        "/settings", sync_to_thread=True, permission=Permission.BILLING_SETTINGS, every_store=True
    )
    def settings(
        self,
        data: BillingSettingsIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """The tenant's base currency (invoices carry their rate to it) and merchant name."""
        value = TenantBilling(base_currency=data.base_currency, merchant_name=data.merchant_name)
        return _save(
            request,
            container,
            principal,
            data,
            "settings",
            lambda idem: container.billing.set_tenant(principal.tenant_id, value, idem),
        )

    @post("/stores/{store:str}", sync_to_thread=True, permission=Permission.BILLING_SETTINGS)
    def store_policy(
        self,
        store: str,
        data: StorePolicyIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """A store's invoicing: on shipment (default) or on order, tax-inclusive prices, tax
        rounding per line or per invoice, payment terms."""
        store_in_scope(principal, store)
        policy = StorePolicy(
            invoice_on=InvoiceOn(data.invoice_on),
            prices_include_tax=data.prices_include_tax,
            tax_rounding=TaxRounding(data.tax_rounding),
            payment_terms_days=data.payment_terms_days,
        )
        return _save(
            request,
            container,
            principal,
            data,
            "store_policy",
            lambda idem: container.billing.set_store_policy(
                principal.tenant_id, store, policy, idem
            ),
        )

    # One GET per list, next to its POST: a static path with only a POST would answer a GET on
    # it with 405 before a `/{table}` route is tried.
    @get("/tax-rates", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def tax_rates(self, container: Container, principal: Principal) -> list[dict[str, Any]]:
        """Configured tax rates per country and region."""
        return container.billing.listing("tax_rates", principal.tenant_id)

    @get("/fx-rates", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def fx_rate_list(self, container: Container, principal: Principal) -> list[dict[str, Any]]:
        """Loaded exchange rates."""
        return container.billing.listing("fx_rates", principal.tenant_id)

    @get("/stores", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def stores(self, container: Container, principal: Principal) -> list[dict[str, Any]]:
        """Stores' invoicing policies (of the caller's stores)."""
        policies = container.billing.listing("store_billing", principal.tenant_id)
        return [policy for policy in policies if principal.sees(policy["store"])]

    @get("/tax-exemptions", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def exemptions(self, container: Container, principal: Principal) -> list[dict[str, Any]]:
        """Tax-exempt customers with their reasons."""
        return container.billing.listing("tax_exemptions", principal.tenant_id)

    @post(
        "/tax-rates", sync_to_thread=True, permission=Permission.BILLING_SETTINGS, every_store=True
    )
    def tax_rate(
        self,
        data: TaxRateIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sets the rate of a country, or of a state/region within it."""
        if not Decimal(0) <= data.rate <= Decimal(1):
            raise ApiProblem(422, "validation_failed", "rate is a fraction from 0 to 1")
        return _save(
            request,
            container,
            principal,
            data,
            "tax_rate",
            lambda idem: container.billing.set_tax_rate(
                principal.tenant_id, data.country, data.region, data.rate, idem
            ),
        )

    @post(
        "/fx-rates", sync_to_thread=True, permission=Permission.BILLING_SETTINGS, every_store=True
    )
    def fx_rates(
        self,
        data: FxRatesIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Loads exchange rates (1 currency = rate base currency, valid from a moment)."""
        if any(not r.rate.is_finite() or r.rate <= 0 for r in data.rates):
            raise ApiProblem(422, "validation_failed", "every rate must be positive")
        base = container.billing.tenant(principal.tenant_id).base_currency
        rows = [(r.currency, r.base_currency or base, r.valid_from, r.rate) for r in data.rates]
        return _save(
            request,
            container,
            principal,
            data,
            "fx_rates",
            lambda idem: container.billing.set_fx_rates(principal.tenant_id, rows, idem),
        )

    @post(
        "/tax-exemptions",
        sync_to_thread=True,
        permission=Permission.BILLING_SETTINGS,
        every_store=True,
    )
    def exemption(
        self,
        data: ExemptionIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Marks a customer (by email) tax exempt, with the reason printed on invoices."""
        return _save(
            request,
            container,
            principal,
            data,
            "tax_exemption",
            lambda idem: container.billing.set_exemption(
                principal.tenant_id, data.email, data.reason, idem
            ),
        )

    @post(
        "/webhook-secrets",
        sync_to_thread=True,
        permission=Permission.BILLING_SETTINGS,
        every_store=True,
    )
    def webhook_secret(
        self,
        data: WebhookSecretIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sets the secret a gateway signs this tenant's webhooks with (never shown again)."""
        return _save(
            request,
            container,
            principal,
            {"gateway": data.gateway, "secret": "*"},
            "webhook_secret",
            lambda idem: container.billing.set_webhook_secret(
                principal.tenant_id, data.gateway, data.secret, idem
            ),
        )
