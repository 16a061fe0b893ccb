"""Fulfilment, inventory and customer reports over the ClickHouse fact tables."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from adapters.embedded.clickhouse import SharedClient
from projections.analytics.queries import (
    LOCATION,
    STORE,
    TENANT,
    Scope,
    _micros,
    between,
    rows,
)
from projections.analytics.rollups import (
    ALL_STORES,
    CUSTOMER_DAILY,
    DAILY_SALES,
    shipping_source,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

END = "fromUnixTimestamp64Micro({end:Int64}, 'UTC')"

# --- fulfilment -----------------------------------------------------------------------------

# Over `shipping_daily` rows (whole days) and the period's partial days from `shipments`. A row
# per location, carrier and the currency its costs were billed in (one, unless a carrier bills
# a location in two: costs in different currencies are never added up).
SHIPPING = """
SELECT location, if(carrier = '', 'unassigned', carrier) AS carrier, sum(shipments) AS shipments,
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
    round(sum(cost) / uniqExactMerge(orders), 2) AS shipping_cost_per_order,
    cost_currency,
    round(sum(short_units) / greatest(sum(units) + sum(short_units), 1), 4) AS short_pick_rate
FROM {source}
GROUP BY location, carrier, cost_currency ORDER BY location, carrier, cost_currency
"""
RETURNS = f"""
SELECT reason, category, sum(quantity) AS units, uniqExact(order_id) AS orders
FROM return_lines FINAL WHERE {TENANT} AND {STORE} AND {between("authorized_at")}
GROUP BY reason, category ORDER BY units DESC, reason
"""
RETURNED_ORDERS = f"""
SELECT uniqExact(order_id) AS orders FROM return_lines FINAL
WHERE {TENANT} AND {STORE} AND {between("authorized_at")}
"""
REFUNDS = f"""
SELECT if(reason = '', 'unspecified', reason) AS reason, count() AS refunds,
    uniqExact(order_id) AS orders
FROM payments FINAL WHERE {TENANT} AND kind = 'refund' AND {between("at")}
  AND (({{store:String}} = '' AND {{scoped:UInt8}} = 0) OR order_id IN (
      SELECT order_id FROM order_lines FINAL WHERE {TENANT} AND {STORE}))
GROUP BY reason ORDER BY refunds DESC, reason
"""
SHIPPED_ORDERS = "SELECT uniqExactMerge(orders) AS orders FROM {source}"


def fulfilment(client: SharedClient, scope: Scope, sla_hours: int) -> dict[str, Any]:
    first, last = scope.body("day")
    source = shipping_source(
        f"{TENANT} AND {STORE}", body=first < last, edges=(scope.start, scope.end) != (first, last)
    )
    params = scope.params() | {"sla": sla_hours, "body_start": _micros(first)}
    params["body_end"] = _micros(last)
    shipped = rows(client, SHIPPED_ORDERS.replace("{source}", source), params)[0]["orders"]
    returned = rows(client, RETURNED_ORDERS, params)[0]["orders"]
    return {
        "by_location_and_carrier": rows(client, SHIPPING.replace("{source}", source), params),
        "orders_shipped": shipped,
        "orders_returned": returned,
        "return_rate": round(returned / shipped, 4) if shipped else None,
        "return_reasons": rows(client, RETURNS, params),
        "refund_reasons": rows(client, REFUNDS, params),
    }


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

# Customers with an order at or after the end of the period: their totals so far hold orders
# after the period, so theirs are summed from customer_daily (whole days) and the lines (the
# partial last day). Every other customer's totals are read as they are (ADR 0048, 0049): a
# period that ends now has none. Any version of a totals row will do: last_at only grows.
LATE = (
    f"SELECT customer FROM customer_totals WHERE {TENANT} AND store = '{ALL_STORES}' "
    f"AND last_at >= {END}"
)
TOTALS = f"""
SELECT customer, currency, orders, revenue AS monetary, first_at AS first_order,
    last_at AS last_order
FROM customer_totals FINAL
WHERE {TENANT} AND store = '{ALL_STORES}' {{not_late}}
"""
STORE_TOTALS = f"""
SELECT customer, currency, sum(orders) AS orders, sum(revenue) AS monetary,
    min(first_at) AS first_order, max(last_at) AS last_order
FROM customer_totals FINAL
WHERE {TENANT} AND store != '{ALL_STORES}' AND {STORE} {{not_late}}
GROUP BY customer, currency
"""
LATE_TOTALS = """
SELECT customer, currency, sum(orders) AS orders, sum(revenue) AS monetary,
    min(first_at) AS first_order, max(last_at) AS last_order
FROM {source} GROUP BY customer, currency
"""
# Days as differences of UTC dates: what dateDiff('day', …) counts, at about half the cost.
PER_CUSTOMER = f"""
SELECT customer, currency, orders, monetary, first_order, last_order,
    toDate({END}) - toDate(last_order) AS recency_days,
    if(orders > 1, (toDate(last_order) - toDate(first_order)) / (orders - 1), NULL)
        AS usual_interval_days
FROM ({{totals}})
"""
# Segments are scored as numbers and named once grouped or listed: a name per customer costs a
# string per row.
SEGMENT_NAMES = "['champions', 'loyal', 'new', 'at_risk', 'hibernating', 'promising']"
# What a listed customer shows, as (column, expression over the scored rows).
LISTED = (
    ("customer", "customer"),
    ("currency", "currency"),
    ("orders", "orders"),
    ("lifetime_value", "monetary"),
    ("average_order_value", "round(monetary / orders, 2)"),
    ("first_order", "first_order"),
    ("last_order", "last_order"),
    ("recency_days", "recency_days"),
    ("usual_interval_days", "round(usual_interval_days, 1)"),
    ("r", "r"),
    ("f", "f"),
    ("m", "m"),
    ("segment", f"{SEGMENT_NAMES}[segment_no]"),
    ("churn_risk", "churn_risk"),
)
_LISTED = ", ".join(f"{expr} AS listed_{column}" for column, expr in LISTED)
# Two statements, each reading the customers twice (a read is a FINAL over customer_totals):
# the segments, scored against quintile cuts that a scalar subquery computes first (and that
# the statement returns), and the two lists, scored with those cuts as parameters (ADR 0049).
CUT_TYPES = {"cut_r": "Array(Float64)", "cut_f": "Array(Float64)", "cut_m": "Array(Decimal(38, 4))"}


def _score(column: str, cut: str, above: bool, parameter: bool) -> str:
    """1-5: one more than the number of cuts the value passes (no lambda: about 2x faster)."""
    sign = ">" if above else "<"
    cuts = f"{{{cut}:{CUT_TYPES[cut]}}}" if parameter else cut
    return " + ".join(["1", *(f"({column} {sign} {cuts}[{i}])" for i in range(1, 5))])


def _scored(parameter: bool) -> str:
    return f"""
    -- quintile scores 1-5 against the cuts (5: most recent, most orders, most spent)
    SELECT *, {_score("recency_days", "cut_r", False, parameter)} AS r,
        {_score("orders", "cut_f", True, parameter)} AS f,
        {_score("monetary", "cut_m", True, parameter)} AS m,
        multiIf(r >= 4 AND f >= 4, 1, f >= 4, 2, r >= 4 AND orders = 1, 3,
            r <= 2 AND f >= 3, 4, r <= 2, 5, 6) AS segment_no,
        {CHURN_RISK} AS churn_risk
    FROM ({{customers}})
    """


CHURN_RISK = "orders > 1 AND recency_days > {k:Float64} * greatest(usual_interval_days, 1)"
SEGMENTS = f"""
WITH (SELECT (quantilesExact(0.2, 0.4, 0.6, 0.8)(recency_days),
        quantilesExact(0.2, 0.4, 0.6, 0.8)(orders), quantilesExact(0.2, 0.4, 0.6, 0.8)(monetary))
     FROM ({{per_customer}})) AS cuts,
    cuts.1 AS cut_r, cuts.2 AS cut_f, cuts.3 AS cut_m
SELECT {SEGMENT_NAMES}[segment_no] AS segment, currency, count() AS customers,
    countIf(orders > 1) AS repeat, countIf(churn_risk) AS churning, sum(monetary) AS value,
    round(avg(monetary), 2) AS average_lifetime_value, any(cuts) AS all_cuts
FROM ({_scored(parameter=False).replace("{customers}", "{per_customer}")})
GROUP BY segment_no, currency ORDER BY segment, currency
"""
# The `limit` largest customers overall and at churn risk, scored once chosen: sorting whole
# rows per segment (groupArraySorted) cost more than the rest of the report together.
_TOP = (
    "SELECT * FROM ({per_customer}) {where} "
    "ORDER BY monetary DESC, customer, currency LIMIT {limit}"
)
_SCORED = _scored(parameter=True)
LARGEST = f"""
SELECT 0 AS churning_list, {_LISTED}
FROM ({_SCORED.replace("{customers}", _TOP.replace("{where}", ""))})
UNION ALL
SELECT 1 AS churning_list, {_LISTED}
FROM ({_SCORED.replace("{customers}", _TOP.replace("{where}", f"WHERE {CHURN_RISK}"))})
"""


def customers(client: SharedClient, scope: Scope, churn_k: float, limit: int) -> dict[str, Any]:
    """RFM segments, lifetime value, repeat-purchase rate and churn risk, as at the end of the
    period (every order before it counts)."""
    totals = STORE_TOTALS if scope.store or scope.stores is not None else TOTALS
    params = scope.params()
    # Every order before the end counts: the totals so far of customers without a later order;
    # for the others (if any), days from the rollup and the last partial day from the lines.
    not_late, late_totals = "", ""
    if rows(client, f"SELECT count() AS late FROM ({LATE} LIMIT 1)", params)[0]["late"]:
        late, params = dataclasses.replace(scope, start=EPOCH).source(
            CUSTOMER_DAILY, f"AND customer IN ({LATE})"
        )
        not_late = f"AND customer NOT IN ({LATE})"
        late_totals = " UNION ALL " + LATE_TOTALS.replace("{source}", late)
    totals = totals.replace("{not_late}", not_late) + late_totals
    per_customer = PER_CUSTOMER.replace("{totals}", totals)
    return scored_customers(client, per_customer, params | {"k": churn_k}, limit)


def scored_customers(
    client: SharedClient, per_customer: str, params: dict[str, Any], limit: int
) -> dict[str, Any]:
    """The customers report over `per_customer` (a customer and currency per row)."""
    segments = rows(client, SEGMENTS.replace("{per_customer}", per_customer), params)
    cuts: dict[str, Any] = {}
    for segment in segments:
        cuts = dict(zip(CUT_TYPES, segment.pop("all_cuts"), strict=True))
    largest = (
        rows(
            client,
            LARGEST.replace("{per_customer}", per_customer).replace("{limit}", str(int(limit))),
            params | cuts,
        )
        if segments
        else []
    )
    total = sum(s["customers"] for s in segments)
    repeat = sum(s.pop("repeat") for s in segments)
    churning = sum(s.pop("churning") for s in segments)
    return {
        "customers": total,
        "repeat_customers": repeat,
        "repeat_purchase_rate": round(repeat / total, 4) if total else None,
        "at_churn_risk": churning,
        "segments": segments,
        "top_customers": _largest(largest, churning=False),
        "churn_risk": _largest(largest, churning=True),
    }


def _largest(found: list[dict[str, Any]], churning: bool) -> list[dict[str, Any]]:
    """One of the two lists, largest lifetime value first (then by customer and currency)."""
    listed = [
        {column: row[f"listed_{column}"] for column, _ in LISTED}
        for row in found
        if row["churning_list"] == churning
    ]
    return sorted(listed, key=lambda c: (-c["lifetime_value"], c["customer"], c["currency"]))
