"""The analytics endpoints over a seeded history, projected into the embedded ClickHouse."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from application.context import CommandContext
from interfaces.bootstrap import Container
from projections.analytics import queries
from tests.api.conftest import END, Tenant, assert_problem, new_tenant, project

PERIOD = {"from": "2026-02-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}


def get(tenant: Tenant, path: str, **params: Any) -> Any:
    response = tenant.get(f"/v1/analytics/{path}", params=PERIOD | params)
    assert response.status_code == 200, response.text
    return response.json()


def test_overview_has_every_metric_with_its_comparison(merchant: Tenant) -> None:
    body = get(merchant, "overview")
    metrics = {(m["metric"], m["currency"]): m for m in body["metrics"]}
    assert body["comparison_from"].startswith("2026-01-04")  # 28 days before
    for name in ("gross_sales", "discounts", "refunds", "returns", "net_sales", "aov"):
        assert (name, "EUR") in metrics
    for name in ("orders", "units", "new_customers", "returning_customers"):
        assert metrics[(name, None)]["previous"] is not None
    eur = {name: Decimal(metrics[(name, "EUR")]["value"]) for name in
           ("gross_sales", "discounts", "cancellations", "returns", "net_sales")}  # fmt: skip
    assert eur["net_sales"] == (
        eur["gross_sales"] - eur["discounts"] - eur["cancellations"] - eur["returns"]
    )
    orders = metrics[("orders", None)]
    assert int(orders["value"]) > 0
    if int(orders["previous"]):
        change = (Decimal(orders["value"]) / Decimal(orders["previous"]) - 1) * 100
        assert Decimal(orders["change_pct"]) == change.quantize(Decimal("0.1"))


def test_daily_revenue_adds_up_to_the_overview_and_has_a_point_per_day(merchant: Tenant) -> None:
    series = get(merchant, "timeseries", metric="revenue", interval="day")
    eur = [p for p in series["points"] if p["currency"] == "EUR"]
    assert len(eur) == 28
    overview = get(merchant, "overview", compare="none")
    net = next(
        m for m in overview["metrics"] if m["metric"] == "net_sales" and m["currency"] == "EUR"
    )
    returns = next(
        m for m in overview["metrics"] if m["metric"] == "returns" and m["currency"] == "EUR"
    )
    total = sum(Decimal(p["value"]) for p in eur)
    assert total == Decimal(net["value"]) + Decimal(returns["value"])
    assert net["previous"] is None


def test_weekly_orders_compare_with_the_same_weeks_a_year_before(merchant: Tenant) -> None:
    series = get(merchant, "timeseries", metric="orders", interval="week", compare="previous_year")
    assert all(p["currency"] is None for p in series["points"])
    assert all(p["previous"] == "0" for p in series["points"])  # no history a year before
    assert sum(int(p["value"]) for p in series["points"]) > 0


def test_breakdown_shares_add_up_to_a_hundred(merchant: Tenant) -> None:
    body = get(merchant, "breakdown", metric="units", by="sku", limit=100)
    shares = sum(Decimal(item["share_pct"]) for item in body["items"])
    assert abs(shares - 100) <= Decimal("0.1")
    top = get(merchant, "breakdown", metric="revenue", by="store", limit=1)["items"]
    assert {item["currency"] for item in top} == {"EUR", "GBP"}  # the top one per currency


def test_reports_export_as_csv(merchant: Tenant) -> None:
    response = merchant.get(
        "/v1/analytics/breakdown", params=PERIOD | {"by": "country"}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows
    assert set(rows[0]) == {
        "key",
        "currency",
        "value",
        "share_pct",
        "previous",
        "change_pct",
    }
    response = merchant.get("/v1/analytics/overview", params=PERIOD | {"format": "csv"})
    assert response.text.splitlines()[0] == "metric,currency,value,previous,change_pct"


def test_another_tenant_sees_nothing(client: TestClient[Any], container: Container) -> None:
    stranger = new_tenant(client, container)
    body = get(stranger, "overview")
    values = {m["metric"]: m["value"] for m in body["metrics"]}
    assert values["orders"] == "0"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("overview", {"from": "yesterday"}),
        ("overview", {"from": "2026-03-01", "to": "2026-02-01"}),
        ("overview", {"compare": "last_decade"}),
        ("timeseries", {"metric": "profit"}),
        ("timeseries", {"interval": "minute"}),
        ("timeseries", {"interval": "hour", "from": "2025-01-01", "to": "2026-01-01"}),
        ("breakdown", {"by": "colour"}),
        ("breakdown", {"format": "xml"}),
    ],
)
def test_bad_parameters_are_422_problems(merchant: Tenant, path: str, params: Any) -> None:
    response = merchant.get(f"/v1/analytics/{path}", params=params)
    assert_problem(response, 422, "invalid_parameter")


def test_limit_out_of_range_is_a_problem(merchant: Tenant) -> None:
    response = merchant.get("/v1/analytics/breakdown", params={"limit": 0})
    assert_problem(response, 422)


def test_fulfilment_reports_times_rates_and_return_reasons(merchant: Tenant) -> None:
    body = get(merchant, "fulfilment", sla_hours=24)
    groups = body["by_location_and_carrier"]
    assert groups
    assert all(g["carrier"] == "unassigned" for g in groups)
    for group in groups:
        assert 0 < group["hours_to_ship_p50"] <= group["hours_to_ship_p90"] <= 75
        assert 0 <= group["on_time_rate"] <= 1
    assert sum(g["shipments"] for g in groups) == body["orders_shipped"]
    assert body["orders_returned"] == 0  # the seeded history refunds without return orders
    assert body["return_rate"] == 0
    assert sum(r["refunds"] for r in body["refund_reasons"]) > 0


def test_inventory_lists_cover_and_reorder_quantities(merchant: Tenant) -> None:
    items = get(merchant, "inventory", lead_time_days=10, safety_days=5)["items"]
    assert len({item["sku"] for item in items}) == len(items) == 10
    for item in items:
        assert item["available"] == item["on_hand"] - item["reserved"]
        if item["status"] == "out_of_stock":
            assert item["available"] <= 0
        if item["units_per_day"]:
            needed = item["units_per_day"] * 15 - item["available"]
            assert item["reorder_quantity"] == max(0, -int(-needed // 1))


def test_customers_are_segmented_with_lifetime_value_and_churn_risk(merchant: Tenant) -> None:
    body = get(merchant, "customers", limit=5, churn_k=2)
    assert body["customers"] == sum(s["customers"] for s in body["segments"])
    assert 0 < body["repeat_purchase_rate"] < 1
    values = [Decimal(c["lifetime_value"]) for c in body["top_customers"]]
    assert values == sorted(values, reverse=True)
    assert len(values) == 5
    for customer in body["churn_risk"]:
        assert customer["orders"] > 1
        assert customer["recency_days"] > 2 * max(customer["usual_interval_days"], 1)


def test_forecast_has_intervals_and_a_backtest(merchant: Tenant) -> None:
    response = merchant.get(
        "/v1/analytics/forecast",
        params={"metric": "units", "horizon": 14, "history_days": 60, "to": "2026-03-01"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["points"]) == 14
    assert body["points"][0]["date"] == "2026-03-01"
    for point in body["points"]:
        assert 0 <= point["lower"] <= point["value"] <= point["upper"]
    assert body["backtest"]["days"] == 14
    assert body["backtest"]["mape_pct"] > 0


def test_forecast_refuses_a_short_history(merchant: Tenant) -> None:
    response = merchant.get(
        "/v1/analytics/forecast", params={"history_days": 30, "horizon": 28, "to": "2026-03-01"}
    )
    assert_problem(response, 422, "not_enough_history")


def test_a_revenue_spike_raises_one_alert_event(seeded: Tenant, container: Container) -> None:
    """The same hour had one mug sold in each of the four weeks before; then it sells 12."""
    from application.orders import NewOrder
    from domain.order.decide import RequestedLine
    from domain.order.events import Address, Customer
    from interfaces.analytics_worker import detect_anomalies

    seeded.receive("BER", MUG=100)
    ctx = CommandContext(tenant_id=seeded.tenant_id, actor="system:test")
    spike = datetime(2025, 6, 10, 14, 0, tzinfo=UTC)
    for week, quantity in ((4, 1), (3, 1), (2, 2), (1, 1), (0, 12)):
        container.orders.place(
            ctx,
            NewOrder(
                store="web", channel="web", external_id=f"spike-{week}", currency="EUR",
                customer=Customer("ada@example.com", "Ada"),
                shipping_address=Address(
                    name="Ada", line1="1 Main St", city="Berlin", postal_code="10115",
                    country="DE",
                ),
                lines=[RequestedLine("MUG", quantity, Decimal("9.90"))],
                placed_at=spike - timedelta(weeks=week) + timedelta(minutes=20),
            ),
        )  # fmt: skip
    client = project(container)
    now = spike + timedelta(hours=1, minutes=5)
    assert detect_anomalies(container, client, now) >= 1
    assert detect_anomalies(container, client, now) == 0  # raised once
    project(container)
    period = {"from": "2025-06-10T00:00:00Z", "to": "2025-06-11T00:00:00Z"}
    body = seeded.get("/v1/analytics/anomalies", params=period).json()
    (anomaly,) = body["anomalies"]
    assert anomaly["hour"].startswith("2025-06-10T14:00")
    assert Decimal(anomaly["revenue"]) == Decimal("118.80")
    assert Decimal(anomaly["baseline"]) == Decimal("12.38")
    (alert,) = body["alerts"]  # raised at `now`, as the event store recorded
    assert alert["hour"].startswith("2025-06-10T14:00")
    assert Decimal(alert["change_pct"]) == Decimal(anomaly["change_pct"])
    home_shows_the_anomaly(seeded, container, now)


def home_shows_the_anomaly(seeded: Tenant, container: Container, now: datetime) -> None:
    """Home's alerts list the last day's anomalies of the stores shown, for analytics roles."""
    from application.access import Permission, Principal, Role
    from interfaces.web.app import template_config
    from interfaces.web.home import Alerts, revenue_anomalies

    def principal(role: Role, stores: frozenset[str] | None = None) -> Principal:
        return Principal(
            tenant_id=seeded.tenant_id, actor="user:x", roles=frozenset({role}), stores=stores
        )

    (anomaly,) = revenue_anomalies(container, principal(Role.ANALYST), None, now)
    assert (anomaly.hour, anomaly.revenue) == (
        datetime(2025, 6, 10, 14, tzinfo=UTC),
        Decimal("118.80"),
    )
    assert revenue_anomalies(container, principal(Role.ANALYST), frozenset({"b2b"}), now) == []
    assert revenue_anomalies(container, principal(Role.INTEGRATOR), None, now) == []
    assert (
        revenue_anomalies(container, principal(Role.ANALYST), None, now + timedelta(days=2)) == []
    )
    html = (
        template_config()
        .engine_instance.get_template("home/_alerts.html")
        .render(alerts=Alerts([], [], 0, [anomaly]), can=lambda _: True, P=Permission)
    )
    assert "Revenue up 860.0 %" in html, html
    assert "2025-06-10 14:00-15:00 UTC: 118.80 EUR against 12.38 usually" in html, html


def test_fulfilment_events_fill_shipments_returns_and_stock(seeded: Tenant) -> None:
    """Through the fulfilment API: labelled (carrier, cost), packed (weight), shipped,
    delivered, returned; the analytics tables and the fulfilment report follow."""
    from tests.api.test_fulfilment_flow import ship_everything

    order = seeded.place(lines=[{"sku": "MUG", "quantity": 3, "unit_price": "9.90"}])
    shipped = ship_everything(seeded, order["id"], "BER", carrier="UPS", service="standard")
    seeded.ok(f"/v1/shipments/{shipped['id']}/deliver", None, 200)
    seeded.ok(
        f"/v1/orders/{order['id']}/returns",
        {"lines": [{"sku": "MUG", "quantity": 1, "reason": "defective"}]},
    )
    seeded.ok(
        f"/v1/orders/{order['id']}/returns",
        {"lines": [{"sku": "MUG", "quantity": 1, "reason": "changed_mind"}]},
    )
    client = project(seeded.container)
    today = {"from": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    body = seeded.get("/v1/analytics/fulfilment", params=today).json()
    (group,) = body["by_location_and_carrier"]
    assert (group["location"], group["carrier"], group["shipments"]) == ("BER", "UPS", 1)
    assert group["hours_to_deliver_p50"] is not None
    assert Decimal(str(group["shipping_cost_per_order"])) > 0
    # One order returned twice, for two reasons: one returned order, one under each reason.
    assert (body["orders_shipped"], body["orders_returned"], body["return_rate"]) == (1, 1, 1)
    assert sorted(body["return_reasons"], key=lambda r: r["reason"]) == [
        {"reason": "changed_mind", "category": "customer_preference", "units": 1, "orders": 1},
        {"reason": "defective", "category": "product_quality", "units": 1, "orders": 1},
    ]
    (weight,) = client.query(
        "SELECT weight_grams FROM shipments FINAL WHERE tenant_id = {t:UUID}",
        parameters={"t": seeded.tenant_id},
    ).result_rows[0]
    assert weight > 0
    movements = client.query(
        "SELECT kind, sum(on_hand_delta), sum(reserved_delta) FROM stock_movements FINAL "
        "WHERE tenant_id = {t:UUID} AND sku = 'MUG' GROUP BY kind ORDER BY kind",
        parameters={"t": seeded.tenant_id},
    ).result_rows
    assert {kind: (on_hand, reserved) for kind, on_hand, reserved in movements} == {
        "committed": (-3, -3),
        "receipt": (15, 0),
        "reserved": (0, 3),
    }


def test_a_store_scoped_key_sees_only_its_stores(merchant: Tenant) -> None:
    everywhere = get(merchant, "breakdown", metric="orders", by="store", limit=100)["items"]
    stores = sorted({item["key"] for item in everywhere})
    assert len(stores) > 1
    mine, other = stores[0], stores[1]
    regional = merchant.with_key("analyst", stores={mine})

    seen = get(regional, "breakdown", metric="orders", by="store", limit=100)["items"]
    assert {item["key"] for item in seen} == {mine}

    def orders(body: Any) -> int:
        return int(next(m for m in body["metrics"] if m["metric"] == "orders")["value"])

    assert orders(get(regional, "overview")) == orders(get(merchant, "overview", store=mine))
    assert orders(get(regional, "overview")) < orders(get(merchant, "overview"))
    assert_problem(
        regional.get("/v1/analytics/overview", params=PERIOD | {"store": other}),
        404,
        "unknown_store",
    )


def test_a_report_query_that_forgets_its_tenant_filter_still_sees_one_tenant(
    merchant: Tenant, seeded: Tenant, container: Container
) -> None:
    """Reports read through `queries.rows`, which scopes every fact-table read to the tenant."""
    seeded.place()
    client = project(container)
    scope = queries.Scope(merchant.tenant_id, END - timedelta(days=365), END)
    forgetful = "SELECT count() AS n, uniqExact(tenant_id) AS tenants FROM order_lines FINAL"

    (scoped,) = queries.rows(client, forgetful, scope.params())
    (everyone,) = client.query(forgetful).named_results()
    explicit = client.query(
        "SELECT count() FROM order_lines FINAL WHERE tenant_id = {t:UUID}",
        parameters={"t": merchant.tenant_id},
    ).result_rows[0][0]

    assert (scoped["n"], scoped["tenants"]) == (explicit, 1)
    assert everyone["tenants"] > 1
    with pytest.raises(ValueError, match="tenant"):
        queries.rows(client, forgetful, {})

    # Rows summed once into a temporary table for several statements (ADR 0060) too.
    lines = "SELECT tenant_id FROM order_lines FINAL"
    with queries.materialized(client, "lines", lines, scope.params()) as session:
        kept = session.query("SELECT count(), uniqExact(tenant_id) FROM lines").result_rows
    assert kept == [(explicit, 1)]
    with pytest.raises(ValueError, match="tenant"), queries.materialized(client, "x", lines, {}):
        pass
