"""Analytics endpoints, read from ClickHouse: overview, time series, breakdowns and reports.

Every call takes `from`/`to` (RFC 3339; default: the 30 days up to now), `compare`
(previous_period, previous_year or none) and `store`, and answers JSON, or CSV with
`?format=csv` or `Accept: text/csv`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from adapters.embedded.clickhouse import SharedClient, shared_client
from application.access import Permission, Principal
from application.analytics.forecast import Forecast, NotEnoughHistory
from application.analytics.forecast import forecast as run_forecast
from application.analytics.periods import COMPARISONS, INTERVALS, buckets, change_pct, comparison
from interfaces.analytics_worker import IN_API, scan_anomalies, start_analytics
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.scope import store_in_scope, visible_locations
from interfaces.http.support import json_response
from projections.analytics import queries, reports
from projections.analytics.projector import migrate
from projections.analytics.queries import DIMENSIONS, METRICS, Scope

From = Annotated[str | None, Parameter(query="from", description="RFC 3339; default 30 days ago")]
To = Annotated[str | None, Parameter(description="RFC 3339, exclusive; default now")]
Compare = Annotated[str, Parameter(description="previous_period | previous_year | none")]
Format = Annotated[str | None, Parameter(description="json (default) or csv")]


def analytics_client(container: Container) -> SharedClient:
    url = container.settings.clickhouse_url
    if url is None:
        raise ApiProblem(503, "analytics_unavailable", "no ClickHouse is configured")
    try:
        return _migrated(url, container.datastore)
    except Exception as error:  # another process holds the embedded engine
        raise ApiProblem(
            503,
            "analytics_unavailable",
            "the analytics engine is not reachable from this process: with the embedded "
            "engine, run one API worker, or set KONTOR_CLICKHOUSE_URL to a ClickHouse server",
        ) from error


@lru_cache(maxsize=4)
def _migrated(url: str, datastore: Any) -> SharedClient:
    """The shared client, its schema created once per process: reports asked for before the
    projector has run answer from empty tables instead of failing."""
    client = shared_client(url)
    migrate(datastore, client)
    return client


class Window(msgspec.Struct, frozen=True):
    scope: Scope
    previous: Scope | None
    compare: str


def _when(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ApiProblem(
            422, "invalid_parameter", f"{name} must be an RFC 3339 date or time"
        ) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _choice(value: str, name: str, allowed: Iterable[str]) -> str:
    options = list(allowed)
    if value not in options:
        raise ApiProblem(422, "invalid_parameter", f"{name} must be one of {', '.join(options)}")
    return value


def window(
    principal: Principal, from_: str | None, to: str | None, compare: str, store: str | None
) -> Window:
    end = _when(to, "to", datetime.now(UTC))
    start = _when(from_, "from", end - timedelta(days=30))
    if start >= end:
        raise ApiProblem(422, "invalid_parameter", "from must lie before to")
    if end - start > timedelta(days=3 * 366):
        raise ApiProblem(422, "invalid_parameter", "a period spans at most three years")
    _choice(compare, "compare", COMPARISONS)
    if store:
        store_in_scope(principal, store)
    scope = Scope(principal.tenant_id, start, end, store or None, principal.stores)
    other = comparison(start, end, compare)
    previous = (
        Scope(principal.tenant_id, other[0], other[1], store or None, principal.stores)
        if other
        else None
    )
    return Window(scope, previous, compare)


def wants_csv(request: Request[Any, Any, Any], format: str | None) -> bool:
    if format is not None:
        return _choice(format, "format", ("json", "csv")) == "csv"
    return "text/csv" in request.headers.get("accept", "")


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[Any]], name: str
) -> Response[bytes]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue().encode(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def report(
    request: Request[Any, Any, Any],
    format: str | None,
    name: str,
    body: dict[str, Any],
    items: str,
) -> Response[bytes]:
    """The report as JSON, or its `items` list as CSV."""
    if wants_csv(request, format):
        rows = body[items]
        header = list(rows[0]) if rows else []
        return csv_response(header, ([row[h] for h in header] for row in rows), name)
    return json_response(200, msgspec.json.encode(body))


def _period(window: Window) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": window.scope.start,
        "to": window.scope.end,
        "compare": window.compare,
    }
    if window.previous is not None:
        body["comparison_from"] = window.previous.start
        body["comparison_to"] = window.previous.end
    return body


def amount_text(value: Decimal | None, money: bool) -> str | None:
    """Money to the cent; a count or ratio without trailing zeros and never in exponent
    notation (Decimal("300").normalize() prints as 3E+2)."""
    if value is None:
        return None
    return str(value.quantize(Decimal("0.01"))) if money else f"{value.normalize():f}"


class AnalyticsController(Controller):
    path = "/v1/analytics"
    tags = ["analytics"]

    @get("/overview", sync_to_thread=True, permission=Permission.ANALYTICS)
    def overview(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        from_: From = None,
        to: To = None,
        compare: Compare = "previous_period",
        store: str | None = None,
        format: Format = None,
    ) -> Response[bytes]:
        """Gross sales, discounts, cancellations, refunds (money given back), returns (the
        goods refunds took back with credit notes), net sales (gross - discounts -
        cancellations - returns) and AOV per currency; orders, units, new and returning
        customers; each with its comparison value and % change."""
        w = window(principal, from_, to, compare, store)
        body = overview_report(analytics_client(container), w)
        return report(request, format, "overview", body, "metrics")

    @get("/timeseries", sync_to_thread=True, permission=Permission.ANALYTICS)
    def timeseries(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        metric: str = "revenue",
        interval: str = "day",
        from_: From = None,
        to: To = None,
        compare: Compare = "previous_period",
        store: str | None = None,
        format: Format = None,
    ) -> Response[bytes]:
        """`metric` (revenue, orders, aov, units) per `interval` (hour, day, week, month), money
        per currency. The n-th point of the comparison period stands beside the n-th point."""
        w = window(principal, from_, to, compare, store)
        body = timeseries_report(analytics_client(container), w, metric, interval)
        return report(request, format, f"timeseries-{metric}", body, "points")

    @get("/breakdown", sync_to_thread=True, permission=Permission.ANALYTICS)
    def breakdown(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        metric: str = "revenue",
        by: str = "store",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 10,
        from_: From = None,
        to: To = None,
        compare: Compare = "previous_period",
        store: str | None = None,
        format: Format = None,
    ) -> Response[bytes]:
        """The top `limit` stores, channels, countries, SKUs or categories by `metric`, with
        their share of the total (per currency for money) and their comparison value."""
        w = window(principal, from_, to, compare, store)
        body = breakdown_report(analytics_client(container), w, metric, by, limit)
        return report(request, format, f"breakdown-{by}", body, "items")

    @get("/fulfilment", sync_to_thread=True, permission=Permission.ANALYTICS)
    def fulfilment(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        sla_hours: Annotated[int, Parameter(ge=1, le=24 * 60)] = 48,
        from_: From = None,
        to: To = None,
        store: str | None = None,
        format: Format = None,
    ) -> Response[bytes]:
        """Shipments sent in the period per location, carrier and the currency their costs were
        billed in: hours to ship and to deliver (p50/p90), on-time rate (shipped within
        `sla_hours` of the order), shipping cost per order, short-pick rate; return rate and
        reasons."""
        w = window(principal, from_, to, "none", store)
        body = reports.fulfilment(analytics_client(container), w.scope, sla_hours)
        return report(request, format, "fulfilment", _period(w) | body, "by_location_and_carrier")

    @get("/inventory", sync_to_thread=True, permission=Permission.ANALYTICS)
    def inventory(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        lead_time_days: Annotated[float, Parameter(ge=0, le=365)] = 14,
        safety_days: Annotated[float, Parameter(ge=0, le=365)] = 7,
        from_: From = None,
        to: To = None,
        store: str | None = None,
        format: Format = None,
    ) -> Response[bytes]:
        """Per SKU: stock now, units sold and per day over it, days of
        cover, turnover per year, sell-through, status (out_of_stock, low_stock: cover below
        the lead time, ok) and a reorder quantity covering lead time plus safety days."""
        w = window(principal, from_, to, "none", store)
        scope = dataclasses.replace(w.scope, locations=visible_locations(container, principal))
        items = reports.inventory(analytics_client(container), scope, lead_time_days, safety_days)
        return report(request, format, "inventory", _period(w) | {"items": items}, "items")

    @get("/customers", sync_to_thread=True, permission=Permission.ANALYTICS)
    def customers(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        churn_k: Annotated[float, Parameter(gt=0, le=100)] = 3,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 20,
        from_: From = None,
        to: To = None,
        store: str | None = None,
        format: Format = None,
    ) -> Response[bytes]:
        """As at the end of the period: RFM segments, lifetime value, repeat-purchase rate, the
        top customers, and those at churn risk (no order in `churn_k` x their usual interval)."""
        w = window(principal, from_, to, "none", store)
        body = reports.customers(analytics_client(container), w.scope, churn_k, limit)
        return report(request, format, "customers", _period(w) | body, "top_customers")

    @get("/forecast", sync_to_thread=True, permission=Permission.ANALYTICS)
    def forecast(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        metric: str = "revenue",
        horizon: Annotated[int, Parameter(ge=1, le=365)] = 90,
        history_days: Annotated[int, Parameter(ge=28, le=3 * 365)] = 365,
        sku: str | None = None,
        store: str | None = None,
        currency: str | None = None,
        to: Annotated[
            str | None, Parameter(description="end of the history; default today")
        ] = None,
        format: Format = None,
    ) -> Response[bytes]:
        """Daily `metric` (revenue or units) for the `horizon` days from `to` (default today),
        from the complete days of the `history_days` before it: Holt-Winters (weekly season,
        damped trend) with a 90 % prediction interval, and the MAPE of a backtest on the most
        recent days. Revenue is in one `currency` (default: the one with the most sales)."""
        client = analytics_client(container)
        body = forecast_report(
            client, principal, metric, horizon, history_days, sku, store, currency, to
        )
        return report(request, format, f"forecast-{metric}", body, "points")

    @get("/anomalies", sync_to_thread=True, permission=Permission.ANALYTICS)
    def anomalies(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        threshold_pct: Annotated[float, Parameter(gt=0, le=10_000)] = 50,
        min_z: Annotated[float, Parameter(ge=0, le=100)] = 3,
        weeks: Annotated[int, Parameter(ge=2, le=12)] = 4,
        from_: From = None,
        to: To = None,
        format: Format = None,
    ) -> Response[bytes]:
        """Hours of the period (default: the last 7 days) whose revenue changed by at least
        `threshold_pct` from the same hour of the previous `weeks` weeks and lies `min_z`
        standard deviations from it; and the alerts the detector raised in the period (events
        `analytics_alert.RevenueAnomalyDetected`, which integrators receive too)."""
        end = _when(to, "to", datetime.now(UTC))
        start = _when(from_, "from", end - timedelta(days=7))
        w = window(principal, start.isoformat(), end.isoformat(), "none", None)
        if end - start > timedelta(days=92):
            raise ApiProblem(422, "invalid_parameter", "an anomaly scan spans at most 92 days")
        client = analytics_client(container)
        found = [
            dataclasses.asdict(anomaly)
            for anomaly in scan_anomalies(
                client,
                principal.tenant_id,
                start,
                end,
                principal.stores,
                threshold_pct=Decimal(str(threshold_pct)),
                min_z=Decimal(str(min_z)),
                weeks=weeks,
            )
        ]
        raised = [
            {"position": a["position"], "recorded_at": a["recorded_at"]}
            | msgspec.json.decode(a["data"])
            for a in queries.alerts(client, w.scope)
            if principal.stores is None  # alerts are about the whole tenant's revenue
        ]
        body = _period(w) | {"anomalies": found, "alerts": raised}
        return report(request, format, "anomalies", body, "anomalies")


def overview_report(client: SharedClient, w: Window) -> dict[str, Any]:
    """The overview's body: every metric with its comparison value and % change."""
    if w.previous is None:
        now, before = queries.overview_values(client, w.scope), {}
    else:
        now, before = queries.overview_values_of(client, [w.scope, w.previous])
    metrics = []
    for metric, currency in [*now, *(key for key in before if key not in now)]:
        value = now.get((metric, currency), Decimal(0))
        previous = before.get((metric, currency), Decimal(0)) if w.previous else None
        money = currency is not None
        metrics.append(
            {
                "metric": metric,
                "currency": currency,
                "value": amount_text(value, money),
                "previous": amount_text(previous, money),
                "change_pct": amount_text(change_pct(value, previous), False),
            }
        )
    return _period(w) | {"metrics": metrics}


def timeseries_report(
    client: SharedClient, w: Window, metric: str, interval: str
) -> dict[str, Any]:
    """`metric` per `interval`, each point beside the n-th point of the comparison period."""
    _choice(metric, "metric", METRICS)
    _choice(interval, "interval", INTERVALS)
    if interval == "hour" and w.scope.end - w.scope.start > timedelta(days=92):
        raise ApiProblem(422, "invalid_parameter", "hourly series span at most 92 days")
    money = metric in queries.MONEY_METRICS
    scopes = [w.scope] if w.previous is None else [w.scope, w.previous]
    current, *before = (
        {(at.replace(tzinfo=UTC), currency): value for at, currency, value in series}
        for series in queries.timeseries_of(client, scopes, metric, interval)
    )
    previous = before[0] if before else None
    found = {c for series in (current, previous or {}) for _, c in series}
    currencies: list[str | None] = sorted(found, key=lambda c: c or "") or [None]
    points = []
    now_buckets = list(buckets(w.scope.start, w.scope.end, interval))
    before_buckets = list(buckets(w.previous.start, w.previous.end, interval)) if w.previous else []
    for currency in currencies:
        for n, at in enumerate(now_buckets):
            value = current.get((at, currency), Decimal(0))
            prior = None
            if previous is not None:
                prior = (
                    previous.get((before_buckets[n], currency), Decimal(0))
                    if n < len(before_buckets)
                    else None
                )
            points.append(
                {
                    "bucket": at,
                    "currency": currency,
                    "value": amount_text(value, money),
                    "previous": amount_text(prior, money),
                    "change_pct": amount_text(change_pct(value, prior), False),
                }
            )
    return _period(w) | {"metric": metric, "interval": interval, "points": points}


def breakdown_report(
    client: SharedClient, w: Window, metric: str, by: str, limit: int
) -> dict[str, Any]:
    """The top `limit` keys of `by` by `metric`, with their share and comparison value."""
    _choice(metric, "metric", METRICS)
    _choice(by, "by", DIMENSIONS)
    money = metric in queries.MONEY_METRICS
    found = queries.breakdown(client, w.scope, metric, by)
    totals: dict[str, Decimal] = {}
    for row in found:
        totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + Decimal(row["value"])
    top: list[dict[str, Any]] = []
    taken: dict[str, int] = {}
    for row in found:
        if taken.get(row["currency"], 0) < limit:
            taken[row["currency"]] = taken.get(row["currency"], 0) + 1
            top.append(row)
    before: dict[tuple[str, str], Decimal] = {}
    if w.previous is not None and top:
        keys = sorted({row["key"] for row in top})
        for row in queries.breakdown(client, w.previous, metric, by, keys):
            before[(row["key"], row["currency"])] = Decimal(row["value"])
    items = []
    for row in top:
        value = Decimal(row["value"])
        total = totals[row["currency"]]
        prior = before.get((row["key"], row["currency"]), Decimal(0)) if w.previous else None
        items.append(
            {
                "key": row["key"],
                "currency": row["currency"] or None,
                "value": amount_text(value, money),
                "share_pct": amount_text((value * 100 / total) if total else Decimal(0), True),
                "previous": amount_text(prior, money),
                "change_pct": amount_text(change_pct(value, prior), False),
            }
        )
    return _period(w) | {"metric": metric, "by": by, "items": items}


def forecast_report(
    client: SharedClient,
    principal: Principal,
    metric: str,
    horizon: int,
    history_days: int,
    sku: str | None,
    store: str | None,
    currency: str | None,
    to: str | None,
) -> dict[str, Any]:
    """Daily `metric` for `horizon` days after `to`, with its 90 % prediction interval."""
    _choice(metric, "metric", ("revenue", "units"))
    end = _when(to, "to", datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    if store:
        store_in_scope(principal, store)
    scope = Scope(
        principal.tenant_id, end - timedelta(days=history_days), end, store, principal.stores
    )
    per_currency = queries.daily(client, scope, metric, sku)
    if metric == "revenue" and currency is None:  # the currency with the most sales
        currency = max(per_currency, key=lambda c: sum(per_currency[c].values()), default=None)
    by_day = (
        per_currency.get(currency or "", {}) if metric == "revenue" else per_currency.get("", {})
    )
    days = [scope.start.date() + timedelta(days=n) for n in range(history_days)]
    first = next((n for n, day in enumerate(days) if day in by_day), len(days))
    history = [float(by_day.get(day, 0)) for day in days[first:]]
    try:
        result = cached_forecast(tuple(history), horizon)
    except NotEnoughHistory as error:
        raise ApiProblem(422, "not_enough_history", str(error)) from error
    points = [
        {
            "date": end.date() + timedelta(days=n),
            "value": result.mean[n],
            "lower": result.lower[n],
            "upper": result.upper[n],
        }
        for n in range(horizon)
    ]
    return {
        "metric": metric,
        "sku": sku,
        "store": store,
        "currency": currency if metric == "revenue" else None,
        "model": "Holt-Winters: additive weekly season, damped additive trend",
        "history_from": days[first] if first < len(days) else None,
        "history_to": end.date(),
        "level": result.level,
        "backtest": {"days": result.backtest_days, "mape_pct": result.backtest_mape},
        "points": points,
    }


def analytics_lifespan(container: Container) -> Any:
    """Runs the analytics projector in this API process when `kontor serve` asks for it (the
    embedded engine opens in one process only: this one, which serves the endpoints)."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        stop = None
        if os.environ.get(IN_API) == "1":
            stop = start_analytics(container.settings)
        try:
            yield
        finally:
            if stop is not None:
                stop()

    return lifespan


@lru_cache(maxsize=256)
def cached_forecast(history: tuple[float, ...], horizon: int) -> Forecast:
    """Complete days only change once a day: the same series and horizon, the same forecast."""
    return run_forecast(history, horizon)
