"""Finance: invoices (PDF download), payments and refunds, AR ageing, reconciliation with its
mismatches, and payout imports (CSV upload) matched with what Kontor recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.response import Template

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import InvoiceSummaryOut, PayoutImportOut
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.invoices import invoices_page
from interfaces.http.routes.money_support import parse_date, utc_now
from interfaces.web.pages import render, store_scope
from projections import finance
from projections.dashboard_money import MoneyMovement, recent_payments

PAGE_SIZE = 25
PAYMENTS_SHOWN = 25
PAYOUTS_SHOWN = 5
MISMATCHES_SHOWN = 100
STATUSES = tuple(finance.STATUS_SQL)


class StoreReconciliation(msgspec.Struct, frozen=True):
    store: str | None
    """None: every store (a principal without a store scope, nothing picked)."""
    orders: int
    totals: list[finance.Totals]
    mismatched: list[finance.OrderReconciliation]


def _invoices(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    *,
    status: str | None,
    cursor: str | None,
) -> tuple[list[InvoiceSummaryOut], str | None]:
    page = invoices_page(
        container,
        principal,
        status=status,
        store=None,
        issued_from=None,
        issued_to=None,
        limit=PAGE_SIZE,
        cursor=cursor,
        stores=store_scope(request, container, principal),
    )
    return page.items, page.next_cursor


def _reconciliations(
    container: Container,
    principal: Principal,
    stores: frozenset[str] | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
) -> list[StoreReconciliation]:
    """One report for every store, or one per store of a limited scope (never a store the
    principal may not see)."""
    found = []
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        for store in [None] if stores is None else sorted(stores):
            report = finance.reconcile(
                curs,
                principal.tenant_id,
                placed_from=placed_from,
                placed_to=placed_to,
                store=store,
            )
            mismatched = [order for order in report.orders if order.mismatches]
            found.append(
                StoreReconciliation(
                    store, len(report.orders), report.totals, mismatched[:MISMATCHES_SHOWN]
                )
            )
    return found


def _money_context(
    container: Container, principal: Principal, stores: frozenset[str] | None
) -> tuple[list[MoneyMovement], list[finance.AgeingBucket], list[PayoutImportOut]]:
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        payments = recent_payments(curs, principal.tenant_id, stores, limit=PAYMENTS_SHOWN)
        ageing = finance.ageing(curs, principal.tenant_id, utc_now(), stores)
        payouts = [
            PayoutImportOut.of(
                payout,
                finance.payout_matches(curs, principal.tenant_id, payout, stores),
                scoped=stores is not None,
            )
            for payout in finance.payout_imports(curs, principal.tenant_id, limit=PAYOUTS_SHOWN)
        ]
    return payments, ageing, payouts


class FinancePages(Controller):
    path = "/dashboard/finance"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def overview(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        status: str | None = None,
        cursor: str | None = None,
        placed_from: str | None = None,
        placed_to: str | None = None,
    ) -> Template:
        """Invoices, payments, ageing, reconciliation and payouts."""
        status = status or None
        placed_from, placed_to = placed_from or None, placed_to or None
        since, until = parse_date(placed_from, "from"), parse_date(placed_to, "to")
        if since and until and since >= until:
            raise ApiProblem(400, "invalid_period", "the period's start must lie before its end")
        invoices, next_cursor = _invoices(
            request, container, principal, status=status, cursor=cursor
        )
        stores = store_scope(request, container, principal)
        payments, ageing, payouts = _money_context(container, principal, stores)
        return render(
            "finance/overview.html",
            request,
            container,
            principal,
            current="finance",
            invoices=invoices,
            next_cursor=next_cursor,
            first_page=cursor is None,
            status=status,
            statuses=STATUSES,
            payments=payments,
            ageing=ageing,
            reconciliations=_reconciliations(container, principal, stores, since, until),
            placed_from=placed_from,
            placed_to=placed_to,
            payouts=payouts,
        )

    @get("/invoices/rows", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def invoice_rows(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        status: str | None = None,
    ) -> Template:
        """The first page of invoices, re-fetched when invoices change."""
        status = status or None
        invoices, _ = _invoices(request, container, principal, status=status, cursor=None)
        return render(
            "finance/_invoice_rows.html",
            request,
            container,
            principal,
            current="finance",
            invoices=invoices,
            status=status,
        )
