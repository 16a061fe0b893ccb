"""Billing configuration the money use cases read: store policies, tax and FX rates,
exemptions, webhook secrets. Kept in tables (reference data, not events), set by API and CLI."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import msgspec

from domain.invoice.pricing import TaxRounding


class InvoiceOn(StrEnum):
    SHIPMENT = "shipment"
    ORDER = "order"


class StorePolicy(msgspec.Struct, frozen=True, kw_only=True):
    invoice_on: InvoiceOn = InvoiceOn.SHIPMENT
    prices_include_tax: bool = False
    tax_rounding: TaxRounding = TaxRounding.LINE
    payment_terms_days: int = 30


class TenantBilling(msgspec.Struct, frozen=True, kw_only=True):
    base_currency: str = "EUR"
    merchant_name: str = ""


class IssueTerms(msgspec.Struct, frozen=True, kw_only=True):
    """What issuing one invoice reads from the configuration."""

    policy: StorePolicy
    tenant: TenantBilling
    tax_rate: Decimal
    exemption: str | None
    fx_rate: Decimal | None  # to the tenant's base currency; None when none is known


class BillingConfig(Protocol):
    def issue_terms(
        self,
        tenant_id: UUID,
        *,
        store: str,
        country: str,
        region: str | None,
        customer_email: str,
        currency: str,
        at: datetime,
    ) -> IssueTerms:
        """Everything `tax_rate`, `fx_rate`, `exemption`, `store_policy` and `tenant` would
        answer for one invoice, read together."""
        ...

    def store_policy(self, tenant_id: UUID, store: str) -> StorePolicy: ...

    def tenant(self, tenant_id: UUID) -> TenantBilling: ...

    def tax_rate(self, tenant_id: UUID, country: str, region: str | None) -> Decimal:
        """The region's rate where one is set, else the country's, else zero."""
        ...

    def fx_rate(self, tenant_id: UUID, currency: str, base: str, at: datetime) -> Decimal | None:
        """The newest rate valid at `at` (1 `currency` = rate `base`), if any."""
        ...

    def exemption(self, tenant_id: UUID, customer_email: str) -> str | None: ...

    def webhook_secret(self, tenant_id: UUID, gateway: str) -> str | None: ...
