"""The analytics reports: tenant-scoped queries over the ClickHouse fact tables and rollups.

Money is reported per currency (orders keep the currency they were placed in). Every query reads
with FINAL, so rows a replay inserted twice count once. Period bounds are half-open [start, end).
Sales figures come from the hourly or daily rollups (ADR 0045), with the partial hours or days
at a period's ends read from `order_lines`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from clickhouse_connect.driver.query import QueryResult

from adapters.embedded.clickhouse import Session, SharedClient
from projections.analytics.rollups import (
    ALL_STORES,
    DAILY_CATEGORIES,
    DAILY_CUSTOMERS,
    DAILY_SALES,
    HOURLY_SALES,
    Rollup,
    any_of,
    tagged,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Scope:
    tenant_id: UUID
    start: datetime
    end: datetime
    store: str | None = None
    stores: frozenset[str] | None = None  # the caller's store scope; None sees every store
    locations: frozenset[str] | None = None  # the locations that fulfil those stores (ADR 0037)

    def params(self) -> dict[str, Any]:
        return {
            "tenant": str(self.tenant_id),
            "start": _micros(self.start),
            "end": _micros(self.end),
            "store": self.store or "",
            "scoped": 0 if self.stores is None else 1,
            "stores": sorted(self.stores or ()),
            "located": 0 if self.locations is None else 1,
            "locations": sorted(self.locations or ()),
        }

    def body(self, grain: str) -> tuple[datetime, datetime]:
        """The whole hours or days inside the period; empty (end, end) if there are none."""
        first, last = _ceil(self.start, grain), _floor(self.end, grain)
        return (first, last) if first < last else (self.end, self.end)

    def source(
        self, rollup: Rollup, where: str = "", *, final: bool = True
    ) -> tuple[str, dict[str, Any]]:
        """The rollup's rows for this period and store scope (see `Rollup.source`), and the
        parameters the SQL needs."""
        first, last = self.body(rollup.grain)
        sql = rollup.source(
            f"{TENANT} AND {STORE} {where}",
            body=first < last,
            edges=(self.start, self.end) != (first, last),
            final=final,
        )
        return sql, self.params() | {"body_start": _micros(first), "body_end": _micros(last)}


GRAINS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def _floor(at: datetime, grain: str) -> datetime:
    at = at.replace(minute=0, second=0, microsecond=0)
    return at if grain == "hour" else at.replace(hour=0)


def _ceil(at: datetime, grain: str) -> datetime:
    floor = _floor(at, grain)
    return floor if floor == at else floor + GRAINS[grain]


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


TENANT = "tenant_id = toUUID({tenant:String})"
STORE = (
    "({store:String} = '' OR store = {store:String}) "
    "AND ({scoped:UInt8} = 0 OR has({stores:Array(String)}, store))"
)

LOCATION = "({located:UInt8} = 0 OR has({locations:Array(String)}, location))"


def between(column: str) -> str:
    return (
        f"{column} >= fromUnixTimestamp64Micro({{start:Int64}}, 'UTC') "
        f"AND {column} < fromUnixTimestamp64Micro({{end:Int64}}, 'UTC')"
    )


FACT_TABLES = (
    "events",
    "order_lines",
    "shipments",
    "stock_movements",
    "invoices",
    "payments",
    "return_lines",
    "daily_sales",
    "hourly_sales",
    "daily_categories",
    "customer_daily",
    "customer_first_orders",
    "customer_totals",
    "shipping_daily",
    "daily_customers",
)
_FACT_READ = re.compile(
    rf"\b(FROM|JOIN)\s+({'|'.join(FACT_TABLES)})\b(?:\s+AS\s+(\w+))?(\s+FINAL\b)?",
    re.IGNORECASE,
)


@lru_cache(maxsize=512)
def tenant_sql(sql: str) -> str:
    """The query with every read of a fact or rollup table replaced by a read of one tenant's
    rows: `FROM order_lines FINAL` becomes `FROM (SELECT * FROM order_lines FINAL WHERE
    tenant_id = {tenant}) AS order_lines`, FINAL kept only where the query asked for it. A query
    that forgets its own tenant filter still sees one tenant (the ClickHouse counterpart of
    row-level security on the Postgres read models)."""

    def scoped(read: re.Match[str]) -> str:
        keyword, table, alias, final = read.groups()
        return f"{keyword} (SELECT * FROM {table}{final or ''} WHERE {TENANT}) AS {alias or table}"

    return _FACT_READ.sub(scoped, sql)


# What report queries run on: the process's client (statements at the same time), or one
# session of it (one after another, sharing its temporary tables).
Reader = SharedClient | Session


def rows(client: Reader, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """A report query's rows as dicts (see `tuples`)."""
    return as_dicts(tuples(client, sql, params))


def tuples(client: Reader, sql: str, params: dict[str, Any]) -> QueryResult:
    """Runs a report query for the tenant in `params["tenant"]` (see `tuples_all`)."""
    return tuples_all(client, [(sql, params)])[0]


def rows_all(
    client: Reader, calls: Sequence[tuple[str, dict[str, Any]]]
) -> list[list[dict[str, Any]]]:
    """`rows` of independent report queries, run at the same time (`tuples_all`)."""
    return [as_dicts(result) for result in tuples_all(client, calls)]


def tuples_all(client: Reader, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[QueryResult]:
    """Runs report queries that do not depend on each other, each for the tenant in its
    `params["tenant"]`, at the same time (`SharedClient.query_all`: a small statement spends
    much of its time being planned), or one after another in a session. The only way the API
    reads analytics, so every read is tenant-filtered by construction (`tenant_sql`)."""
    for _, params in calls:
        _require_tenant(params)
    return client.query_all([(tenant_sql(sql), params) for sql, params in calls])


def _require_tenant(params: dict[str, Any]) -> None:
    if not params.get("tenant"):
        raise ValueError("an analytics query needs the tenant it reads for")


@contextmanager
def materialized(
    client: SharedClient, table: str, sql: str, params: dict[str, Any]
) -> Iterator[Session]:
    """A session in which `sql`'s rows, for the tenant in `params["tenant"]`, are the temporary
    table `table`: for a result that several statements read, which would each compute it
    again. Dropped at the end, so a chdb handle goes back to the pool without it."""
    _require_tenant(params)
    with client.session() as session:
        session.command(f"DROP TEMPORARY TABLE IF EXISTS {table}")
        session.command(
            f"CREATE TEMPORARY TABLE {table} ENGINE = Memory AS {tenant_sql(sql)}", params
        )
        try:
            yield session
        finally:
            session.command(f"DROP TEMPORARY TABLE IF EXISTS {table}")


def as_dicts(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


# --- overview -------------------------------------------------------------------------------

# Every statement reads its tables once for all the periods asked for (the period and its
# comparison period): each row carries the `period` (from 1) it lies in. The engine plans every
# subquery anew, which on a small machine cost as much as reading (ADR 0054).
SALES = """
SELECT period, currency, sum(gross) AS gross_sales, sum(discount) AS discounts,
    sum(cancelled) AS cancellations, sum(orders) AS orders, sum(units) AS units
FROM {source} GROUP BY period, currency ORDER BY period, currency
"""
REFUNDS = f"""
SELECT {{tagged}} AS period, currency, sum(amount) AS refunds, sum(returned) AS returns,
    count() AS refund_count
FROM payments FINAL
WHERE {TENANT} AND kind = 'refund' AND {{any}}
  AND (({{store:String}} = '' AND {{scoped:UInt8}} = 0) OR order_id IN (
      SELECT order_id FROM order_lines FINAL WHERE {TENANT} AND {STORE}))
GROUP BY period, currency
"""
# Customers who ordered in a period (distinct across its days and stores: the days' sets
# merge), and the new ones among them: those whose first order in the stores looked at lies in
# the period (ADR 0049). Unscoped, a store's or all stores' first orders are rows of their own,
# read with FINAL (min over the rows a replay or a recomputed day added); a store scope takes the
# earliest over its stores.
ACTIVE_CUSTOMERS = (
    "SELECT period, uniqExactMerge(customers) AS active FROM {source} GROUP BY period"
)
FIRST_ORDERS_IN = f"""
SELECT {{tagged}} AS period, count() AS new FROM customer_first_orders FINAL
WHERE {TENANT} AND store = {{first_store:String}} AND {{any}}
GROUP BY period
"""
FIRST_ORDERS_IN_SCOPE = f"""
SELECT {{tagged}} AS period, count() AS new FROM (
    SELECT customer, min(first_at) AS first_at FROM customer_first_orders
    WHERE {TENANT} AND store != '{ALL_STORES}' AND {STORE} GROUP BY customer)
WHERE {{any}}
GROUP BY period
"""


@dataclass(frozen=True)
class Periods:
    """Several periods of one tenant and store scope, as parameters for `Rollup.periods_source`
    at a grain: period n's start, end and whole hours or days end in `_{grain}{n}`."""

    scopes: Sequence[Scope]
    grain: str

    @property
    def suffixes(self) -> list[str]:
        return [f"_{self.grain}{n}" for n in range(1, len(self.scopes) + 1)]

    def params(self) -> dict[str, Any]:
        params = self.scopes[0].params()
        for suffix, scope in zip(self.suffixes, self.scopes, strict=True):
            first, last = scope.body(self.grain)
            params |= {
                f"start{suffix}": _micros(scope.start),
                f"end{suffix}": _micros(scope.end),
                f"body_start{suffix}": _micros(first),
                f"body_end{suffix}": _micros(last),
            }
        return params

    def source(self, rollup: Rollup) -> str:
        bodies = [scope.body(self.grain) for scope in self.scopes]
        return rollup.periods_source(
            f"{TENANT} AND {STORE}",
            self.suffixes,
            body=any(first < last for first, last in bodies),
            edges=any(
                (s.start, s.end) != body for s, body in zip(self.scopes, bodies, strict=True)
            ),
        )

    def tag(self, sql: str, column: str) -> str:
        """`sql` with {tagged} and {any} over the periods' [start, end) of `column`."""
        ranges = [
            f"{column} >= fromUnixTimestamp64Micro({{start{s}:Int64}}, 'UTC') "
            f"AND {column} < fromUnixTimestamp64Micro({{end{s}:Int64}}, 'UTC')"
            for s in self.suffixes
        ]
        return sql.replace("{tagged}", tagged(ranges)).replace("{any}", any_of(ranges))


def overview_values(client: SharedClient, scope: Scope) -> dict[tuple[str, str | None], Decimal]:
    """Every overview metric, keyed by (metric, currency or None)."""
    return overview_values_of(client, [scope])[0]


def overview_values_of(
    client: SharedClient, scopes: Sequence[Scope]
) -> list[dict[tuple[str, str | None], Decimal]]:
    """`overview_values` for periods of one tenant and store scope (a period and the one it is
    compared with), each table read once for them all."""
    if len({(s.tenant_id, s.store, s.stores) for s in scopes}) != 1:
        raise ValueError("periods read together share their tenant and store scope")
    hours, days = Periods(scopes, "hour"), Periods(scopes, "day")
    by_hour, by_day = hours.params(), days.params()
    first = FIRST_ORDERS_IN if scopes[0].stores is None else FIRST_ORDERS_IN_SCOPE
    sales, refunds, actives, firsts = rows_all(
        client,
        [
            (SALES.replace("{source}", hours.source(HOURLY_SALES)), by_hour),
            (hours.tag(REFUNDS, "at"), by_hour),
            (ACTIVE_CUSTOMERS.replace("{source}", days.source(DAILY_CUSTOMERS)), by_day),
            (days.tag(first, "first_at"), by_day | {"first_store": scopes[0].store or ALL_STORES}),
        ],
    )
    values: list[dict[tuple[str, str | None], Decimal]] = [{} for _ in scopes]
    counts = [[0, 0] for _ in scopes]  # orders, units
    for row in sales:
        found, cur = values[row["period"] - 1], row["currency"]
        gross, discounts = row["gross_sales"], row["discounts"]
        found[("gross_sales", cur)] = gross
        found[("discounts", cur)] = discounts
        found[("cancellations", cur)] = row["cancellations"]
        found[("net_sales", cur)] = gross - discounts - row["cancellations"]
        found[("aov", cur)] = (
            (gross - discounts - row["cancellations"]) / row["orders"] if row["orders"] else ZERO
        ).quantize(Decimal("0.01"))
        found[("refunds", cur)] = ZERO
        found[("returns", cur)] = ZERO
        counts[row["period"] - 1][0] += row["orders"]
        counts[row["period"] - 1][1] += row["units"]
    for row in refunds:
        # Net sales less what refunds took back of what was billed (returns), not money given
        # back that was never a sale: an overpayment, credit held before invoicing (ADR 0059).
        found, cur = values[row["period"] - 1], row["currency"]
        found[("refunds", cur)] = row["refunds"]
        found[("returns", cur)] = row["returns"]
        found[("net_sales", cur)] = found.get(("net_sales", cur), ZERO) - row["returns"]
    active = {r["period"]: r["active"] for r in actives}
    news = {r["period"]: r["new"] for r in firsts}
    for n, (found, (orders, units)) in enumerate(zip(values, counts, strict=True), start=1):
        found[("orders", None)] = Decimal(orders)
        found[("units", None)] = Decimal(units)
        found[("new_customers", None)] = Decimal(news.get(n, 0))
        found[("returning_customers", None)] = Decimal(active.get(n, 0) - news.get(n, 0))
    return values


# --- time series ----------------------------------------------------------------------------

BUCKETS = {
    "hour": "hour",
    "day": "toDateTime(toDate(hour), 'UTC')",
    "week": "toDateTime(toMonday(hour), 'UTC')",
    "month": "toDateTime(toStartOfMonth(hour), 'UTC')",
}
# Over rollup rows: an order lies in one row, so order counts add up.
METRICS = {
    "revenue": "sum(gross - discount - cancelled)",
    "orders": "sum(orders)",
    "units": "sum(units)",
    "aov": "sum(gross - discount - cancelled) / sum(orders)",
}
MONEY_METRICS = {"revenue", "aov"}


def timeseries(
    client: SharedClient, scope: Scope, metric: str, interval: str
) -> list[tuple[datetime, str | None, Decimal]]:
    """(bucket start, currency for money metrics, value) in bucket order."""
    return timeseries_of(client, [scope], metric, interval)[0]


def timeseries_of(
    client: SharedClient, scopes: Sequence[Scope], metric: str, interval: str
) -> list[list[tuple[datetime, str | None, Decimal]]]:
    """`timeseries` of several periods (a period and the one it is compared with), read at the
    same time."""
    currency = "currency" if metric in MONEY_METRICS else "''"
    calls = []
    for scope in scopes:
        source, params = scope.source(HOURLY_SALES)
        sql = f"""
        SELECT {BUCKETS[interval]} AS bucket, {currency} AS currency, {METRICS[metric]} AS value
        FROM {source} GROUP BY bucket, currency ORDER BY bucket, currency"""
        calls.append((sql, params))
    return [
        [(r["bucket"], r["currency"] or None, Decimal(r["value"])) for r in found]
        for found in rows_all(client, calls)
    ]


# --- breakdown ------------------------------------------------------------------------------

# The rollup that holds each dimension, and its column there.
DIMENSIONS: dict[str, tuple[Rollup, str]] = {
    "store": (HOURLY_SALES, "store"),
    "channel": (HOURLY_SALES, "channel"),
    "country": (HOURLY_SALES, "country"),
    "sku": (DAILY_SALES, "sku"),
    "category": (DAILY_CATEGORIES, "category"),
}


def breakdown(
    client: SharedClient, scope: Scope, metric: str, by: str, keys: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Rows of key, currency, value (all keys, or only `keys`), largest first."""
    currency = "currency" if metric in MONEY_METRICS else "''"
    rollup, column = DIMENSIONS[by]
    only = f"AND {column} IN {{keys:Array(String)}}" if keys is not None else ""
    source, params = scope.source(rollup, only)
    sql = f"""
    SELECT {column} AS key, {currency} AS currency, {METRICS[metric]} AS value
    FROM {source} GROUP BY key, currency ORDER BY value DESC, key"""
    return rows(client, sql, params | ({"keys": list(keys)} if keys is not None else {}))


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


def daily(
    client: SharedClient, scope: Scope, metric: str, sku: str | None
) -> dict[str, dict[Any, Decimal]]:
    """Revenue per currency, or units (under currency ''), per day; days without sales are
    absent."""
    currency = "currency" if metric in MONEY_METRICS else "''"
    if sku:
        source, params = scope.source(DAILY_SALES, "AND sku = {sku:String}")
        day = "day"
    else:
        source, params = scope.source(HOURLY_SALES)
        day = "toDate(hour)"
    sql = f"""
    SELECT {day} AS day, {currency} AS currency, {METRICS[metric]} AS value
    FROM {source} GROUP BY day, currency ORDER BY day"""
    found: dict[str, dict[Any, Decimal]] = {}
    for r in rows(client, sql, params | {"sku": sku or ""}):
        found.setdefault(r["currency"], {})[r["day"]] = Decimal(r["value"])
    return found


def active_tenants(client: SharedClient, since: datetime) -> list[UUID]:
    """The anomaly detector's one cross-tenant read (which tenants to check), outside `rows`."""
    result = client.query(
        "SELECT DISTINCT tenant_id FROM hourly_sales FINAL "
        "WHERE hour >= toStartOfHour(fromUnixTimestamp64Micro({since:Int64}, 'UTC'))",
        parameters={"since": _micros(since)},
    )
    return [row["tenant_id"] for row in as_dicts(result)]


def alerts(client: SharedClient, scope: Scope) -> list[dict[str, Any]]:
    """Anomaly alerts raised in the period, newest first, as stored (JSON data)."""
    return rows(
        client,
        f"SELECT position, recorded_at, data FROM events FINAL WHERE {TENANT} "
        f"AND topic = 'analytics_alert.RevenueAnomalyDetected' AND {between('recorded_at')} "
        f"ORDER BY position DESC LIMIT 1000",
        scope.params(),
    )
