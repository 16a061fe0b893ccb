"""The analytics reports: tenant-scoped queries over the ClickHouse fact tables.

Money is reported per currency (orders keep the currency they were placed in). Every query reads
with FINAL, so rows a replay inserted twice count once. Period bounds are half-open [start, end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from adapters.embedded.clickhouse import SharedClient

ZERO = Decimal(0)


@dataclass(frozen=True)
class Scope:
    tenant_id: UUID
    start: datetime
    end: datetime
    store: str | None = None
    stores: frozenset[str] | None = None  # the caller's store scope; None sees every store

    def params(self) -> dict[str, Any]:
        return {
            "tenant": str(self.tenant_id),
            "start": _micros(self.start),
            "end": _micros(self.end),
            "store": self.store or "",
            "scoped": 0 if self.stores is None else 1,
            "stores": sorted(self.stores or ()),
        }


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


TENANT = "tenant_id = toUUID({tenant:String})"
STORE = (
    "({store:String} = '' OR store = {store:String}) "
    "AND ({scoped:UInt8} = 0 OR has({stores:Array(String)}, store))"
)


def between(column: str) -> str:
    return (
        f"{column} >= fromUnixTimestamp64Micro({{start:Int64}}, 'UTC') "
        f"AND {column} < fromUnixTimestamp64Micro({{end:Int64}}, 'UTC')"
    )


def rows(client: SharedClient, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = client.query(sql, parameters=params)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


# --- overview -------------------------------------------------------------------------------

SALES = f"""
SELECT currency, sum(gross) AS gross_sales, sum(discount) AS discounts,
    sum(unit_price * cancelled_quantity) AS cancellations,
    uniqExact(order_id) AS orders, sum(quantity - cancelled_quantity) AS units
FROM order_lines FINAL WHERE {TENANT} AND {STORE} AND {between("placed_at")}
GROUP BY currency ORDER BY currency
"""
REFUNDS = f"""
SELECT p.currency AS currency, sum(p.amount) AS refunds, count() AS refund_count
FROM payments AS p FINAL
WHERE p.{TENANT} AND p.kind = 'refund' AND {between("p.at")}
  AND (({{store:String}} = '' AND {{scoped:UInt8}} = 0) OR p.order_id IN (
      SELECT order_id FROM order_lines FINAL WHERE {TENANT} AND {STORE}))
GROUP BY currency
"""
CUSTOMERS = f"""
WITH firsts AS (
    SELECT customer, min(placed_at) AS first_at FROM order_lines FINAL
    WHERE {TENANT} AND {STORE} GROUP BY customer)
SELECT countIf(first_at >= fromUnixTimestamp64Micro({{start:Int64}}, 'UTC')) AS new_customers,
    countIf(first_at < fromUnixTimestamp64Micro({{start:Int64}}, 'UTC')) AS returning_customers
FROM firsts WHERE customer IN (
    SELECT customer FROM order_lines FINAL WHERE {TENANT} AND {STORE} AND {between("placed_at")})
"""


def overview_values(client: SharedClient, scope: Scope) -> dict[tuple[str, str | None], Decimal]:
    """Every overview metric, keyed by (metric, currency or None)."""
    params = scope.params()
    values: dict[tuple[str, str | None], Decimal] = {}
    orders = units = 0
    for row in rows(client, SALES, params):
        cur = row["currency"]
        gross, discounts = row["gross_sales"], row["discounts"]
        values[("gross_sales", cur)] = gross
        values[("discounts", cur)] = discounts
        values[("cancellations", cur)] = row["cancellations"]
        values[("net_sales", cur)] = gross - discounts - row["cancellations"]
        values[("aov", cur)] = (
            (gross - discounts - row["cancellations"]) / row["orders"] if row["orders"] else ZERO
        ).quantize(Decimal("0.01"))
        values[("refunds", cur)] = ZERO
        orders += row["orders"]
        units += row["units"]
    for row in rows(client, REFUNDS, params):
        cur = row["currency"]
        values[("refunds", cur)] = row["refunds"]
        values[("net_sales", cur)] = values.get(("net_sales", cur), ZERO) - row["refunds"]
    values[("orders", None)] = Decimal(orders)
    values[("units", None)] = Decimal(units)
    (customers,) = rows(client, CUSTOMERS, params)
    values[("new_customers", None)] = Decimal(customers["new_customers"])
    values[("returning_customers", None)] = Decimal(customers["returning_customers"])
    return values


# --- time series ----------------------------------------------------------------------------

BUCKETS = {
    "hour": "toStartOfHour(placed_at)",
    "day": "toDate(placed_at)",
    "week": "toMonday(placed_at)",
    "month": "toStartOfMonth(placed_at)",
}
METRICS = {
    "revenue": "sum(net - unit_price * cancelled_quantity)",
    "orders": "uniqExact(order_id)",
    "units": "sum(quantity - cancelled_quantity)",
    "aov": "sum(net - unit_price * cancelled_quantity) / uniqExact(order_id)",
}
MONEY_METRICS = {"revenue", "aov"}


def timeseries(
    client: SharedClient, scope: Scope, metric: str, interval: str
) -> list[tuple[datetime, str | None, Decimal]]:
    """(bucket start, currency for money metrics, value) in bucket order."""
    currency = "currency" if metric in MONEY_METRICS else "''"
    sql = f"""
    SELECT toDateTime({BUCKETS[interval]}, 'UTC') AS bucket, {currency} AS currency,
        {METRICS[metric]} AS value
    FROM order_lines FINAL WHERE {TENANT} AND {STORE} AND {between("placed_at")}
    GROUP BY bucket, currency ORDER BY bucket, currency"""
    found = rows(client, sql, scope.params())
    return [(r["bucket"], r["currency"] or None, Decimal(r["value"])) for r in found]


# --- breakdown ------------------------------------------------------------------------------

DIMENSIONS = {
    "store": "store",
    "channel": "channel",
    "country": "country",
    "sku": "sku",
    # Products carry no category yet: the SKU's family prefix stands in for it (ADR 0025).
    "category": "splitByChar('-', sku)[1]",
}


def breakdown(
    client: SharedClient, scope: Scope, metric: str, by: str, keys: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Rows of key, currency, value (all keys, or only `keys`), largest first."""
    currency = "currency" if metric in MONEY_METRICS else "''"
    only = "AND key IN {keys:Array(String)}" if keys is not None else ""
    sql = f"""
    SELECT {DIMENSIONS[by]} AS key, {currency} AS currency, {METRICS[metric]} AS value
    FROM order_lines FINAL WHERE {TENANT} AND {STORE} AND {between("placed_at")} {only}
    GROUP BY key, currency ORDER BY value DESC, key"""
    params = scope.params() | ({"keys": list(keys)} if keys is not None else {})
    return rows(client, sql, params)


# --- money totals (reconciliation check) ----------------------------------------------------

MONEY = f"""
WITH o AS (
    SELECT order_id, any(currency) AS currency, sum(gross) AS ordered,
        sum(unit_price * shipped_quantity) AS shipped_value
    FROM order_lines FINAL WHERE {TENANT} AND {STORE} AND {between("placed_at")}
    GROUP BY order_id),
i AS (
    SELECT order_id, sumIf(total, voided = 0) AS invoiced, sumIf(tax, voided = 0) AS tax
    FROM invoices FINAL WHERE {TENANT} GROUP BY order_id),
p AS (
    SELECT order_id, sumIf(amount, kind = 'payment') AS paid,
        sumIf(amount, kind = 'refund') AS refunded
    FROM payments FINAL WHERE {TENANT} GROUP BY order_id)
SELECT o.currency AS currency, sum(o.ordered) AS ordered, sum(o.shipped_value) AS shipped_value,
    sum(i.invoiced) AS invoiced, sum(i.tax) AS tax, sum(p.paid) AS paid,
    sum(p.refunded) AS refunded, count() AS orders
FROM o LEFT JOIN i ON i.order_id = o.order_id LEFT JOIN p ON p.order_id = o.order_id
GROUP BY o.currency ORDER BY o.currency
SETTINGS join_use_nulls = 0
"""


def money_totals(client: SharedClient, scope: Scope) -> list[dict[str, Any]]:
    """Per currency, for orders placed in the period: ordered, shipped value, invoiced, tax,
    paid and refunded, as the Postgres reconciliation report defines them."""
    return rows(client, MONEY, scope.params())


# --- daily series for forecasts -------------------------------------------------------------

DAILY = f"""
SELECT toDate(placed_at) AS day, {{currency}} AS currency, {{value}} AS value
FROM order_lines FINAL
WHERE {TENANT} AND {STORE} AND {between("placed_at")}
  AND ({{sku:String}} = '' OR sku = {{sku:String}})
GROUP BY day, currency ORDER BY day
"""


def daily(
    client: SharedClient, scope: Scope, metric: str, sku: str | None
) -> dict[str, dict[Any, Decimal]]:
    """Revenue per currency, or units (under currency ''), per day; days without sales are
    absent."""
    currency = "currency" if metric in MONEY_METRICS else "''"
    sql = DAILY.replace("{value}", METRICS[metric]).replace("{currency}", currency)
    found: dict[str, dict[Any, Decimal]] = {}
    for r in rows(client, sql, scope.params() | {"sku": sku or ""}):
        found.setdefault(r["currency"], {})[r["day"]] = Decimal(r["value"])
    return found


def active_tenants(client: SharedClient, since: datetime) -> list[UUID]:
    found = rows(
        client,
        "SELECT DISTINCT tenant_id FROM order_lines FINAL "
        "WHERE placed_at >= fromUnixTimestamp64Micro({since:Int64}, 'UTC')",
        {"since": _micros(since)},
    )
    return [row["tenant_id"] for row in found]


def alerts(client: SharedClient, scope: Scope) -> list[dict[str, Any]]:
    """Anomaly alerts raised in the period, newest first, as stored (JSON data)."""
    return rows(
        client,
        f"SELECT position, recorded_at, data FROM events FINAL WHERE {TENANT} "
        f"AND topic = 'analytics_alert.RevenueAnomalyDetected' AND {between('recorded_at')} "
        f"ORDER BY position DESC LIMIT 1000",
        scope.params(),
    )
