"""Analytics: a period (with a comparison period) picked in a form; the overview, a time
series chart, a breakdown, fulfilment and carrier performance, inventory turnover and a
forecast with its prediction band. Each view reads the same report function as its REST route
and links to that route's CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template

from application.access import Permission, Principal
from application.analytics.periods import COMPARISONS, INTERVALS
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.analytics import (
    analytics_client,
    breakdown_report,
    forecast_report,
    overview_report,
    timeseries_report,
    window,
)
from interfaces.web.pages import picked_store, render
from projections.analytics import reports
from projections.analytics.queries import DIMENSIONS, METRICS

DEFAULT_DAYS = 30
FORECAST_DAYS = 30
BREAKDOWN_LIMIT = 10
SLA_HOURS = 48
LEAD_TIME_DAYS = 14
SAFETY_DAYS = 7


def _day(value: str | None, name: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiProblem(400, "invalid_parameter", f"{name} must be a date (YYYY-MM-DD)") from None


def _midnight(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def _series_chart(series: dict[str, Any]) -> dict[str, Any]:
    """The chart's data: the first currency's points (the table below it lists them all)."""
    points = series["points"]
    currency = points[0]["currency"] if points else None
    shown = [p for p in points if p["currency"] == currency]
    return {
        "label": f"{series['metric']}{f' ({currency})' if currency else ''}",
        "x": [p["bucket"].timestamp() for p in shown],
        "current": [float(p["value"]) for p in shown],
        "previous": [None if p["previous"] is None else float(p["previous"]) for p in shown],
    }


def _forecast_metric(metric: str) -> str:
    return "units" if metric in ("orders", "units") else "revenue"


def _forecast_chart(forecast: dict[str, Any]) -> dict[str, Any]:
    points = forecast["points"]
    return {
        "label": f"{forecast['metric']}{f' ({c})' if (c := forecast['currency']) else ''}",
        "x": [_midnight_epoch(p["date"]) for p in points],
        "value": [p["value"] for p in points],
        "lower": [p["lower"] for p in points],
        "upper": [p["upper"] for p in points],
    }


def _midnight_epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


class AnalyticsPages(Controller):
    path = "/dashboard/analytics"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.ANALYTICS)
    def analytics(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        from_day: str | None = None,
        to_day: str | None = None,
        compare: str = "previous_period",
        metric: str = "revenue",
        interval: str = "day",
        by: str = "store",
    ) -> Template:
        """Every analytics view over one period; `to_day` is inclusive here."""
        last = _day(to_day, "to", datetime.now(UTC).date())
        first = _day(from_day, "from", last - timedelta(days=DEFAULT_DAYS - 1))
        if first > last:
            raise ApiProblem(400, "invalid_parameter", "the first day must not lie after the last")
        store = picked_store(request, container, principal)
        since, until = _midnight(first), _midnight(last + timedelta(days=1))
        w = window(principal, since, until, compare, store)
        client = analytics_client(container)
        series = timeseries_report(client, w, metric, interval)
        breakdown = breakdown_report(client, w, metric, by, BREAKDOWN_LIMIT)
        period = {"from": since, "to": until} | _store(store)
        compared = period | {"compare": compare}

        def csv(view: str, **params: Any) -> str:
            return f"/v1/analytics/{view}?{urlencode(params | {'format': 'csv'})}"

        return render(
            "analytics/overview.html",
            request,
            container,
            principal,
            current="analytics",
            first=first,
            last=last,
            compare=compare,
            metric=metric,
            interval=interval,
            by=by,
            comparisons=COMPARISONS,
            metrics=list(METRICS),
            intervals=INTERVALS,
            dimensions=list(DIMENSIONS),
            overview=overview_report(client, w),
            series=series,
            series_chart=_series_chart(series),
            breakdown=breakdown,
            fulfilment=reports.fulfilment(client, w.scope, SLA_HOURS),
            inventory=reports.inventory(client, w.scope, LEAD_TIME_DAYS, SAFETY_DAYS),
            forecast_query=urlencode({"metric": metric, "to_day": last.isoformat()}),
            exports={
                "overview": csv("overview", **compared),
                "timeseries": csv("timeseries", metric=metric, interval=interval, **compared),
                "breakdown": csv(
                    "breakdown", metric=metric, by=by, limit=BREAKDOWN_LIMIT, **compared
                ),
                "fulfilment": csv("fulfilment", sla_hours=SLA_HOURS, **period),
                "inventory": csv(
                    "inventory",
                    lead_time_days=LEAD_TIME_DAYS,
                    safety_days=SAFETY_DAYS,
                    **period,
                ),
            },
        )

    @get("/forecast", sync_to_thread=True, permission=Permission.ANALYTICS)
    def forecast(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        to_day: str | None = None,
        metric: str = "revenue",
    ) -> Template:
        """The forecast after the period's last day: a fragment the page loads after its first
        paint (fitting the model takes a moment the first time a history is seen)."""
        last = _day(to_day, "to", datetime.now(UTC).date())
        store = picked_store(request, container, principal)
        until = _midnight(last + timedelta(days=1))
        forecast_metric = _forecast_metric(metric)
        client = analytics_client(container)
        try:
            forecast: dict[str, Any] | None = forecast_report(
                client, principal, forecast_metric, FORECAST_DAYS, 365, None, store, None, until
            )
            problem = None
        except ApiProblem as refused:
            if refused.code != "not_enough_history":
                raise
            forecast, problem = None, refused.detail
        params = {"metric": forecast_metric, "horizon": FORECAST_DAYS, "to": until, "format": "csv"}
        return render(
            "analytics/_forecast.html",
            request,
            container,
            principal,
            current="analytics",
            forecast=forecast,
            forecast_chart=_forecast_chart(forecast) if forecast else None,
            forecast_problem=problem,
            export=f"/v1/analytics/forecast?{urlencode(params | _store(store))}",
        )


def _store(store: str | None) -> dict[str, str]:
    return {"store": store} if store else {}
