"""Home: today's figures against yesterday, the same weekday last week and the same day last
year (each up to the same time of day); the live order feed; alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.response import Template

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.analytics.anomalies import Anomaly
from interfaces.analytics_worker import anomaly_settings, scan_anomalies
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.analytics import analytics_client
from interfaces.http.schemas import OrderSummaryOut
from interfaces.web.pages import location_scope, render, store_scope
from projections.dashboard import (
    LowStock,
    Overdue,
    Sales,
    failed_webhooks,
    low_stock,
    overdue_invoices,
    sales_between,
)
from projections.orders import list_orders

FEED_SIZE = 10
ANOMALY_WINDOW = timedelta(days=1)
ANOMALIES_SHOWN = 5
COMPARISONS = (("yesterday", timedelta(days=1)), ("last week", timedelta(days=7)))


class Change(msgspec.Struct, frozen=True):
    label: str
    value: Decimal
    percent: float | None
    """None when the comparison figure is zero."""


class Figure(msgspec.Struct, frozen=True):
    name: str
    value: Decimal
    money: bool
    changes: list[Change]


class CurrencyFigures(msgspec.Struct, frozen=True):
    currency: str
    figures: list[Figure]


def _percent(now: Decimal, then: Decimal) -> float | None:
    return None if not then else round(float((now - then) / then * 100), 1)


def _same_day_last_year(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - 1, day=28)


def figures(
    container: Container, principal: Principal, stores: frozenset[str] | None, now: datetime
) -> list[CurrencyFigures]:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    periods = [(label, start - delta, now - delta) for label, delta in COMPARISONS]
    periods.append(("last year", _same_day_last_year(start), _same_day_last_year(now)))
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        today = sales_between(curs, principal.tenant_id, start, now, stores=stores)
        before = {
            label: sales_between(curs, principal.tenant_id, since, until, stores=stores)
            for label, since, until in periods
        }
    currencies = sorted(set(today) | {c for sales in before.values() for c in sales}) or ["EUR"]
    result = []
    for currency in currencies:
        empty = Sales(currency, Decimal(0), 0, 0)
        now_sales = today.get(currency, empty)
        then = {label: sales.get(currency, empty) for label, sales in before.items()}
        metrics = (
            ("Sales", lambda s: s.sales, True),
            ("Orders", lambda s: Decimal(s.orders), False),
            ("Average order", lambda s: s.average_order, True),
            ("Units", lambda s: Decimal(s.units), False),
        )
        result.append(
            CurrencyFigures(
                currency,
                [
                    Figure(
                        name,
                        measure(now_sales),
                        money,
                        [
                            Change(label, measure(old), _percent(measure(now_sales), measure(old)))
                            for label, old in then.items()
                        ],
                    )
                    for name, measure, money in metrics
                ],
            )
        )
    return result


class Alerts(msgspec.Struct, frozen=True):
    """Each kind only for those who may act on it (stock, finance, analytics, integrations)."""

    low_stock: list[LowStock]
    overdue: list[Overdue]
    failed_webhooks: int
    anomalies: list[Anomaly]


def revenue_anomalies(
    container: Container, principal: Principal, stores: frozenset[str] | None, now: datetime
) -> list[Anomaly]:
    """The complete hours of the last day whose revenue broke from the same hour of the weeks
    before (the analytics detector's rule and settings), newest first; none when the analytics
    engine is not reachable from this process: Home must render without it."""
    if not principal.may(Permission.ANALYTICS):
        return []
    try:
        client = analytics_client(container)
    except ApiProblem:
        return []
    threshold, min_z, weeks = anomaly_settings()
    end = now.replace(minute=0, second=0, microsecond=0)
    found = scan_anomalies(
        client,
        principal.tenant_id,
        end - ANOMALY_WINDOW,
        end,
        stores,
        threshold_pct=threshold,
        min_z=min_z,
        weeks=weeks,
    )
    return sorted(found, key=lambda anomaly: anomaly.hour, reverse=True)[:ANOMALIES_SHOWN]


def alerts(
    container: Container,
    principal: Principal,
    stores: frozenset[str] | None,
    locations: frozenset[str] | None,
) -> Alerts:
    now = datetime.now(UTC)
    tenant = principal.tenant_id
    with tenant_reads(container.datastore, tenant) as curs:
        low = (
            low_stock(curs, tenant, locations=locations, limit=10)
            if principal.may(Permission.STOCK_READ)
            else []
        )
        overdue = (
            overdue_invoices(curs, tenant, now, stores=stores, limit=10)
            if principal.may(Permission.FINANCE_READ)
            else []
        )
    failed = 0
    if principal.may(Permission.INTEGRATIONS) and principal.stores is None:  # webhooks: every store
        with container.datastore.transaction() as curs:
            failed = failed_webhooks(curs, tenant, now - timedelta(days=1))
    return Alerts(low, overdue, failed, revenue_anomalies(container, principal, stores, now))


def feed(
    container: Container, principal: Principal, stores: frozenset[str] | None
) -> list[OrderSummaryOut]:
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        rows = list_orders(
            curs,
            principal.tenant_id,
            status=None,
            store=None,
            search=None,
            limit=FEED_SIZE,
            after=None,
            stores=stores,
        )
    return [OrderSummaryOut.from_row(row) for row in rows]


class HomePages(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def home(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """Home."""
        stores = store_scope(request, container, principal)
        return render(
            "home.html",
            request,
            container,
            principal,
            current="home",
            figures=figures(container, principal, stores, datetime.now(UTC)),
            feed=feed(container, principal, stores),
            alerts=alerts(
                container, principal, stores, location_scope(request, container, principal)
            ),
        )

    @get("/home/figures", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def figures_fragment(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        stores = store_scope(request, container, principal)
        return render(
            "home/_figures.html",
            request,
            container,
            principal,
            current="home",
            figures=figures(container, principal, stores, datetime.now(UTC)),
        )

    @get("/home/feed", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def feed_fragment(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        stores = store_scope(request, container, principal)
        return render(
            "home/_feed.html",
            request,
            container,
            principal,
            current="home",
            feed=feed(container, principal, stores),
        )

    @get("/home/alerts", sync_to_thread=True, permission=Permission.ORDERS_READ)
    def alerts_fragment(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        stores = store_scope(request, container, principal)
        return render(
            "home/_alerts.html",
            request,
            container,
            principal,
            current="home",
            alerts=alerts(
                container, principal, stores, location_scope(request, container, principal)
            ),
        )
