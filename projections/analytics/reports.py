"""Fulfilment, inventory and customer reports over the ClickHouse fact tables."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.embedded.clickhouse import SharedClient
from projections.analytics import rfm
from projections.analytics.queries import (
    LOCATION,
    STORE,
    TENANT,
    ZERO,
    Reader,
    Scope,
    _micros,
    as_dicts,
    between,
    materialized,
    rows,
    rows_all,
    tuples_all,
)
from projections.analytics.rollups import (
    ALL_STORES,
    CUSTOMER_DAILY,
    DAILY_SALES,
    shipping_source,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CENT = Decimal("0.01")
END = "fromUnixTimestamp64Micro({end:Int64}, 'UTC')"
EARLIEST, LATEST = (f"toDateTime64('{t}', 6, 'UTC')" for t in ("1970-01-01", "2299-12-31 23:59:59"))

# --- fulfilment -----------------------------------------------------------------------------

# Over `shipping_daily` rows (whole days) and the period's partial days from `shipments`. A row
# per location, carrier and the currency its costs were billed in (one, unless a carrier bills
# a location in two: costs in different currencies are never added up), and last one over them
# all (`overall`), for the orders shipped: a second statement over the same rows cost as much
# as a third of the report.
SHIPPING = """
SELECT grouping(location, carrier, cost_currency) AS overall, location,
    if(carrier = '', 'unassigned', carrier) AS carrier, sum(shipments) AS shipments,
    if(sum(length(ship_seconds)) = 0, NULL,
        round(quantileExactArray(0.5)(ship_seconds) / 3600, 1)) AS hours_to_ship_p50,
    if(sum(length(ship_seconds)) = 0, NULL,
        round(quantileExactArray(0.9)(ship_seconds) / 3600, 1)) AS hours_to_ship_p90,
    if(sum(length(deliver_seconds)) = 0, NULL,
        round(quantileExactArray(0.5)(deliver_seconds) / 3600, 1)) AS hours_to_deliver_p50,
    if(sum(length(deliver_seconds)) = 0, NULL,
        round(quantileExactArray(0.9)(deliver_seconds) / 3600, 1)) AS hours_to_deliver_p90,
    round(sum(arrayCount(x -> x <= {sla:UInt32} * 3600, ship_seconds)) / shipments, 4)
        AS on_time_rate,
    round(sum(cost) / greatest(uniqExactMerge(orders), 1), 2) AS shipping_cost_per_order,
    cost_currency,
    round(sum(short_units) / greatest(sum(units) + sum(short_units), 1), 4) AS short_pick_rate,
    uniqExactMerge(orders) AS shipped_orders
FROM {source}
GROUP BY GROUPING SETS ((location, carrier, cost_currency), ())
ORDER BY overall, location, carrier, cost_currency
"""
# Per reason and category, and over them all for the orders returned.
RETURNS = f"""
SELECT grouping(reason, category) AS overall, reason, category, sum(quantity) AS units,
    uniqExact(order_id) AS orders
FROM return_lines FINAL WHERE {TENANT} AND {STORE} AND {between("authorized_at")}
GROUP BY GROUPING SETS ((reason, category), ()) ORDER BY overall, units DESC, reason
"""
REFUNDS = f"""
SELECT if(reason = '', 'unspecified', reason) AS reason, count() AS refunds,
    uniqExact(order_id) AS orders
FROM payments FINAL WHERE {TENANT} AND kind = 'refund' AND {between("at")}
  AND (({{store:String}} = '' AND {{scoped:UInt8}} = 0) OR order_id IN (
      SELECT order_id FROM order_lines FINAL WHERE {TENANT} AND {STORE}))
GROUP BY reason ORDER BY refunds DESC, reason
"""


def fulfilment(client: SharedClient, scope: Scope, sla_hours: int) -> dict[str, Any]:
    first, last = scope.body("day")
    source = shipping_source(
        f"{TENANT} AND {STORE}", body=first < last, edges=(scope.start, scope.end) != (first, last)
    )
    params = scope.params() | {"sla": sla_hours, "body_start": _micros(first)}
    params["body_end"] = _micros(last)
    shipped_rows, returned_rows, refund_reasons = rows_all(
        client,
        [(SHIPPING.replace("{source}", source), params), (RETURNS, params), (REFUNDS, params)],
    )
    groups, shipping = _overall(shipped_rows)
    reasons, returns = _overall(returned_rows)
    shipped, returned = shipping.pop("shipped_orders"), returns["orders"]
    for group in groups:
        del group["shipped_orders"]
    return {
        "by_location_and_carrier": groups,
        "orders_shipped": shipped,
        "orders_returned": returned,
        "return_rate": round(returned / shipped, 4) if shipped else None,
        "return_reasons": reasons,
        "refund_reasons": refund_reasons,
    }


def _overall(found: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows of a `GROUPING SETS (…, ())` statement, and its row over them all (which
    there is even without rows to group), each without the `overall` flag."""
    groups, overall = [], {}
    for row in found:
        if row.pop("overall"):
            overall = row
        else:
            groups.append(row)
    return groups, overall


# --- inventory ------------------------------------------------------------------------------

INVENTORY = f"""
WITH stock AS (
    SELECT sku, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
    FROM stock_movements FINAL WHERE {TENANT} AND {LOCATION} GROUP BY sku),
sold AS (SELECT sku, sum(units) AS units_sold FROM {{sold}} GROUP BY sku)
SELECT sku, on_hand, reserved, available, units_sold,
    round(units_sold / {{days:Float64}}, 3) AS units_per_day,
    if(units_per_day > 0, round(available / units_per_day, 1), NULL) AS days_of_cover,
    if(on_hand > 0, round(units_sold / on_hand * 365 / {{days:Float64}}, 2), NULL)
        AS turnover_per_year,
    round(units_sold / greatest(units_sold + greatest(available, 0), 1), 4) AS sell_through,
    multiIf(available <= 0, 'out_of_stock',
        days_of_cover IS NOT NULL AND days_of_cover < {{lead:Float64}}, 'low_stock', 'ok')
        AS status,
    toInt64(greatest(0, ceil(units_per_day * ({{lead:Float64}} + {{safety:Float64}}))
        - available)) AS reorder_quantity
FROM (
    SELECT if(stock.sku = '', sold.sku, stock.sku) AS sku, stock.on_hand AS on_hand,
        stock.reserved AS reserved, stock.on_hand - stock.reserved AS available,
        sold.units_sold AS units_sold
    FROM stock FULL OUTER JOIN sold ON stock.sku = sold.sku
    SETTINGS join_use_nulls = 0)
ORDER BY status = 'ok', days_of_cover, sku
"""


def inventory(
    client: SharedClient, scope: Scope, lead_time_days: float, safety_days: float
) -> list[dict[str, Any]]:
    """Per SKU, stock now and sales velocity over the period. Stock events carry no business
    time of their own (only when they were recorded), so stock is not reported as of a date."""
    days = max((scope.end - scope.start).total_seconds() / 86_400, 1 / 24)
    sold, params = scope.source(DAILY_SALES)
    params |= {"days": days, "lead": lead_time_days, "safety": safety_days}
    return rows(client, INVENTORY.replace("{sold}", sold), params)


# --- customers ------------------------------------------------------------------------------

# Customers with an order at or after the end of the period, or a refund that took back sales
# then: their totals so far hold what came after the period. If there are any, every customer
# is summed from customer_daily (whole days) and the lines (the partial last day), less their
# returns before the end; otherwise the totals are read as they are (ADR 0048, 0049, 0059): a
# period that ends now has none. Any version of a totals row will do: last_at only grows.
LATE = f"""
SELECT count() AS late FROM (
    SELECT customer FROM customer_totals WHERE {TENANT} AND store = '{ALL_STORES}'
        AND last_at >= {END} LIMIT 1
    UNION ALL
    SELECT customer FROM payments WHERE {TENANT} AND kind = 'refund' AND returned != 0
        AND at >= {END} LIMIT 1)
"""
# Lifetime value is net of what refunds took back of the orders, as net sales are (ADR 0059).
TOTALS = f"""
SELECT customer, currency, orders, revenue - returned AS monetary, first_at AS first_order,
    last_at AS last_order
FROM customer_totals FINAL
WHERE {TENANT} AND store = '{ALL_STORES}'
"""
STORE_TOTALS = f"""
SELECT customer, currency, sum(orders) AS orders, sum(revenue) - sum(returned) AS monetary,
    min(first_at) AS first_order, max(last_at) AS last_order
FROM customer_totals FINAL
WHERE {TENANT} AND store != '{ALL_STORES}' AND {STORE}
GROUP BY customer, currency
"""
# Customers summed from their days before the end, less their returns before it: each return
# comes in as a row of its own with what it took back as negative revenue, no orders and times
# that neither min nor max picks, and only customers with an order count. (A join of every
# customer with the few returns doubled the statement's time; looking them up with `transform`
# cost a string per customer.)
DAYS_TOTALS = f"""
SELECT customer, currency, sum(orders) AS orders, sum(revenue) AS monetary,
    min(first_at) AS first_order, max(last_at) AS last_order
FROM (
    SELECT customer, currency, orders, revenue, first_at, last_at FROM {{source}}
    UNION ALL
    SELECT customer, currency, 0, -returned, {LATEST}, {EARLIEST} FROM payments FINAL
    WHERE {TENANT} AND kind = 'refund' AND returned != 0 AND at < {END} AND {STORE})
GROUP BY customer, currency HAVING orders > 0
"""
# Days as differences of UTC dates: what dateDiff('day', …) counts, at about half the cost.
PER_CUSTOMER = f"""
SELECT customer, currency, orders, monetary, first_order, last_order,
    toDate({END}) - toDate(last_order) AS recency_days,
    if(orders > 1, (toDate(last_order) - toDate(first_order)) / (orders - 1), NULL)
        AS usual_interval_days
FROM ({{totals}})
"""
CHURN_RISK = "orders > 1 AND recency_days > {k:Float64} * greatest(usual_interval_days, 1)"
# Customers per (currency, recency, orders), those at churn risk among them counted: what the
# segments need, in a few thousand rows that `rfm` scores (a score per customer in SQL cost a
# second pass over them, and analysing the scoring expressions took longer than running them).
# (currency, recency_days, orders, churning, customers, value)
Bucket = tuple[str, int, int, int, int, Decimal]
BUCKETS = f"""
SELECT currency, recency_days, orders, countIf({CHURN_RISK}) AS churning, count() AS customers,
    sum(monetary) AS value
FROM ({{per_customer}})
GROUP BY currency, recency_days, orders
"""
LISTED = """customer, currency, orders, monetary AS lifetime_value,
    round(monetary / orders, 2) AS average_order_value, first_order, last_order, recency_days,
    round(usual_interval_days, 1) AS usual_interval_days"""
LISTED_COLUMNS = (
    "customer", "currency", "orders", "lifetime_value", "average_order_value", "first_order",
    "last_order", "recency_days", "usual_interval_days",
)  # fmt: skip
# The largest customers overall and at churn risk from one sort: of the `window` largest, the
# first `limit` per churn flag hold the largest overall too. Customers at risk beyond the
# window (`in_window` counts what it held) are found by CHURNING. The monetary cuts come along.
# (LISTED renames columns to what they were computed from, so nothing else in its SELECT may
# read them: an alias wins over a column.)
LARGEST = f"""
SELECT {LISTED}, churn_risk, count() OVER () AS in_window{{cut_m}}
FROM (
    SELECT *, {CHURN_RISK} AS churn_risk FROM ({{per_customer}})
    ORDER BY monetary DESC, customer, currency LIMIT {{window:UInt32}})
ORDER BY monetary DESC, customer, currency LIMIT {{limit:UInt32}} BY churn_risk
"""
CUT_M = f", (SELECT quantilesExact{rfm.QUINTILES}(monetary) FROM ({{per_customer}})) AS cut_m"
CHURNING = f"""
SELECT {LISTED}, churn_risk
FROM (SELECT *, {CHURN_RISK} AS churn_risk FROM ({{per_customer}}))
WHERE churn_risk ORDER BY monetary DESC, customer, currency LIMIT {{limit:UInt32}}
"""
# Wide enough that a merchant's largest customers include `limit` at churn risk (the demo and
# bench histories: 65 among the 1,000 largest of 160,000), small enough to sort cheaply.
WINDOW = 1_000


def customers(client: SharedClient, scope: Scope, churn_k: float, limit: int) -> dict[str, Any]:
    """RFM segments, lifetime value, repeat-purchase rate and churn risk, as at the end of the
    period (every order before it counts)."""
    late = rows(client, LATE, scope.params())[0]["late"]
    if not late:
        totals = STORE_TOTALS if scope.store or scope.stores is not None else TOTALS
        per_customer = PER_CUSTOMER.replace("{totals}", totals)
        return scored_customers(client, per_customer, scope.params() | {"k": churn_k}, limit)
    # One pass over every customer's days costs less than the totals of the customers without
    # later orders plus the days of those with: the sets that split them cost more than the
    # rows they spare (ADR 0053). Both statements of the report read those sums, so they are
    # summed once, into a temporary table (ADR 0060).
    days, params = dataclasses.replace(scope, start=EPOCH).source(CUSTOMER_DAILY)
    summed = DAYS_TOTALS.replace("{source}", days)
    with materialized(client, "customers_at_end", summed, params) as session:
        per_customer = PER_CUSTOMER.replace("{totals}", "SELECT * FROM customers_at_end")
        return scored_customers(session, per_customer, params | {"k": churn_k}, limit)


def scored_customers(
    client: Reader, per_customer: str, params: dict[str, Any], limit: int
) -> dict[str, Any]:
    """The customers report over `per_customer` (a customer and currency per row)."""
    window = max(WINDOW, limit)
    # The buckets and the largest customers at the same time; the largest are none without
    # buckets (no customers).
    counted, largest_found = tuples_all(
        client,
        [
            (BUCKETS.replace("{per_customer}", per_customer), params),
            (
                LARGEST.replace("{cut_m}", CUT_M).replace("{per_customer}", per_customer),
                params | {"window": window, "limit": limit},
            ),
        ],
    )
    buckets: list[Bucket] = counted.result_rows
    largest = as_dicts(largest_found) if buckets else []
    churning = [c for c in largest if c["churn_risk"]]
    if len(churning) < limit and largest and largest[0]["in_window"] == window:
        query = CHURNING.replace("{per_customer}", per_customer)
        churning = rows(client, query, params | {"limit": limit})
    recency: Counter[int] = Counter()
    orders: Counter[int] = Counter()
    total = repeat = at_risk = 0
    for _, days, placed, churning_customers, customers, _ in buckets:
        recency[days] += customers
        orders[placed] += customers
        total += customers
        at_risk += churning_customers
        if placed > 1:
            repeat += customers
    cuts = rfm.Cuts(
        recency=rfm.exact_quantiles(recency),
        orders=rfm.exact_quantiles(orders),
        monetary=largest[0]["cut_m"] if largest else [],
    )
    return {
        "customers": total,
        "repeat_customers": repeat,
        "repeat_purchase_rate": round(repeat / total, 4) if total else None,
        "at_churn_risk": at_risk,
        "segments": _segments(buckets, cuts, recency, orders),
        "top_customers": [_listed(c, cuts) for c in largest[:limit]],
        "churn_risk": [_listed(c, cuts) for c in churning],
    }


def _segments(
    buckets: list[Bucket], cuts: rfm.Cuts, recency: Iterable[int], orders: Iterable[int]
) -> list[dict[str, Any]]:
    """Customers and lifetime value per segment and currency, by segment name. Each distinct
    recency and order count is scored once."""
    r = {days: cuts.r(days) for days in recency}
    f = {placed: cuts.f(placed) for placed in orders}
    found: dict[tuple[str, str], list[Any]] = {}
    for currency, days, placed, _, customers, value in buckets:
        segment = rfm.segment(r[days], f[placed], placed)
        totals = found.setdefault((segment, currency), [0, ZERO])
        totals[0] += customers
        totals[1] += value
    return [
        {
            "segment": segment,
            "currency": currency,
            "customers": customers,
            "value": value,
            "average_lifetime_value": float((value / customers).quantize(CENT, ROUND_HALF_UP)),
        }
        for (segment, currency), (customers, value) in sorted(found.items())
    ]


def _listed(customer: dict[str, Any], cuts: rfm.Cuts) -> dict[str, Any]:
    """A listed customer with their scores and segment."""
    r, f = cuts.r(customer["recency_days"]), cuts.f(customer["orders"])
    return {
        **{column: customer[column] for column in LISTED_COLUMNS},
        "r": r,
        "f": f,
        "m": cuts.m(customer["lifetime_value"]),
        "segment": rfm.segment(r, f, customer["orders"]),
        "churn_risk": customer["churn_risk"],
    }
