"""The analytics schema in ClickHouse, as numbered migrations applied once each, in order.

Every table is a ReplacingMergeTree whose sorting key is the identity of what a row describes
(an event's position, an order line, a shipment...). A replay inserts the same keys again, and
readers use FINAL, so duplicates never count twice. Folded tables carry `version` (the global
position of the last event applied) and keep the newest row.
"""

from __future__ import annotations

from adapters.embedded.clickhouse import SharedClient
from domain.shared.money import MINOR_UNITS
from projections.analytics.rollups import (
    ALL_STORES,
    CUSTOMER_DAILY,
    DAILY_CATEGORIES,
    DAILY_CUSTOMERS,
    DAILY_SALES,
    HOURLY_SALES,
    recompute_customer_totals,
    recompute_shipping_daily,
)

MONEY = "Decimal(18, 4)"
TOTAL = "Decimal(38, 4)"
TIME = "DateTime64(6, 'UTC')"

_ORDER_LINE_COLUMNS = f"""
    tenant_id UUID, order_id UUID, line_no UInt32,
    store LowCardinality(String), channel LowCardinality(String),
    country LowCardinality(String), region LowCardinality(String),
    customer String, sku LowCardinality(String), quantity Int32,
    unit_price {MONEY}, gross {MONEY}, discount {MONEY}, net {MONEY},
    currency LowCardinality(String), cancelled_quantity Int32,
    cancelled_value {MONEY} DEFAULT 0, shipped_quantity Int32, invoiced_tax {MONEY},
    base_currency LowCardinality(String), fx_rate Nullable(Decimal(18, 8)),
    placed_at {TIME}, shipped_at Nullable({TIME}), cancelled_at Nullable({TIME}),
    line_discount_terms String DEFAULT '', order_discount_terms String DEFAULT '',
    version UInt64"""

# Columns added to order_lines later (ADR 0056, 0057). The rollups read cancelled_value from
# migration 3 on and migration 7 copies order_lines column by column: a database older than
# a column gets it at the first migration that needs it (3, 7, or its own), in the position a
# new table has it.
ADD_CANCELLED_VALUE = (
    f"ALTER TABLE order_lines ADD COLUMN IF NOT EXISTS cancelled_value {MONEY} DEFAULT 0 "
    "AFTER cancelled_quantity"
)
ADD_DISCOUNT_TERMS = (
    "ALTER TABLE order_lines ADD COLUMN IF NOT EXISTS line_discount_terms String DEFAULT '' "
    "AFTER cancelled_at",
    "ALTER TABLE order_lines ADD COLUMN IF NOT EXISTS order_discount_terms String DEFAULT '' "
    "AFTER line_discount_terms",
)

# Column lists as migrations 10, 11, 13 and 15 rewrote rows of them: a migration that
# re-inserts rows names the columns the table had then, so a later column cannot break it.
_ORDER_LINE_COLUMNS_10 = (
    "tenant_id", "order_id", "line_no", "store", "channel", "country", "region", "customer", "sku",
    "quantity", "unit_price", "gross", "discount", "net", "currency", "cancelled_quantity",
    "cancelled_value", "shipped_quantity", "invoiced_tax", "base_currency", "fx_rate", "placed_at",
    "shipped_at", "cancelled_at", "line_discount_terms", "order_discount_terms", "version",
)  # fmt: skip
_INVOICE_COLUMNS_11 = (
    "tenant_id", "invoice_id", "number", "order_id", "shipment_id", "store", "currency",
    "subtotal", "discount", "shipping", "tax", "total", "base_currency", "fx_rate", "paid",
    "credited", "refunded", "voided", "issued_at", "voided_at", "version",
)  # fmt: skip
_PAYMENT_COLUMNS_13 = (
    "tenant_id", "id", "kind", "order_id", "customer", "store", "invoice_id", "amount",
    "returned", "currency", "method", "gateway", "reason", "at",
)  # fmt: skip


def _customer_totals_before_returns(where: str) -> str:
    """`recompute_customer_totals` as migrations 4 and 9 ran it, before customer_totals and
    payments had the columns that count returns (migrations 13 and 14)."""
    return (
        "INSERT INTO customer_totals (tenant_id, store, customer, currency, orders, revenue, "
        "first_at, last_at, version) "
        "SELECT tenant_id, per_store, customer, currency, sum(orders), sum(revenue), "
        "min(first_at), max(last_at), max(version) "
        f"FROM customer_daily FINAL ARRAY JOIN [toString(store), '{ALL_STORES}'] AS per_store "
        "WHERE (tenant_id, customer) IN "
        f"(SELECT DISTINCT tenant_id, customer FROM order_lines WHERE {where}) "
        "GROUP BY tenant_id, per_store, customer, currency"
    )


MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "facts",
        (
            f"""CREATE TABLE IF NOT EXISTS events (
                position UInt64, tenant_id UUID, stream_id UUID, version UInt64,
                topic LowCardinality(String), aggregate LowCardinality(String),
                actor String, correlation_id UUID, causation_id Nullable(UUID),
                request_id Nullable(String), recorded_at {TIME}, data String
            ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, position)
            PARTITION BY toYYYYMM(recorded_at)""",
            f"""CREATE TABLE IF NOT EXISTS order_lines ({_ORDER_LINE_COLUMNS}
            ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, order_id, line_no)
            PARTITION BY toYYYYMM(placed_at)""",
            f"""CREATE TABLE IF NOT EXISTS shipments (
                tenant_id UUID, shipment_id UUID, order_id UUID,
                store LowCardinality(String), location LowCardinality(String),
                carrier LowCardinality(String), service LowCardinality(String),
                cost {MONEY}, cost_currency LowCardinality(String),
                weight_grams UInt32, units Int32, short_units Int32, value {MONEY},
                order_placed_at Nullable({TIME}), created_at {TIME},
                shipped_at Nullable({TIME}), delivered_at Nullable({TIME}), version UInt64
            ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, shipment_id)""",
            f"""CREATE TABLE IF NOT EXISTS stock_movements (
                tenant_id UUID, position UInt64, sku LowCardinality(String),
                location LowCardinality(String), kind LowCardinality(String),
                on_hand_delta Int32, reserved_delta Int32,
                unit_cost Nullable({MONEY}), order_id Nullable(UUID), at {TIME}
            ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, position)
            PARTITION BY toYYYYMM(at)""",
            f"""CREATE TABLE IF NOT EXISTS invoices (
                tenant_id UUID, invoice_id UUID, number String, order_id UUID,
                shipment_id Nullable(UUID), store LowCardinality(String),
                currency LowCardinality(String), subtotal {MONEY}, discount {MONEY},
                shipping {MONEY}, tax {MONEY}, total {MONEY},
                base_currency LowCardinality(String), fx_rate Nullable(Decimal(18, 8)),
                paid {MONEY}, credited {MONEY}, refunded {MONEY}, voided UInt8,
                issued_at {TIME}, voided_at Nullable({TIME}), version UInt64
            ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, invoice_id)""",
            f"""CREATE TABLE IF NOT EXISTS payments (
                tenant_id UUID, id UUID, kind LowCardinality(String), order_id UUID,
                customer String DEFAULT '', store LowCardinality(String) DEFAULT '',
                invoice_id Nullable(UUID), amount {MONEY}, returned {MONEY} DEFAULT 0,
                currency LowCardinality(String),
                method LowCardinality(String), gateway LowCardinality(String),
                reason String, at {TIME}
            ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, kind, id)""",
            f"""CREATE TABLE IF NOT EXISTS daily_sales (
                tenant_id UUID, day Date, store LowCardinality(String),
                channel LowCardinality(String), sku LowCardinality(String),
                currency LowCardinality(String), orders UInt64, units Int64,
                gross {TOTAL}, discount {TOTAL},
                cancelled {TOTAL}, version UInt64
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (tenant_id, day, store, channel, sku, currency)""",
            """CREATE TABLE IF NOT EXISTS projector_position (
                projector LowCardinality(String), position UInt64
            ) ENGINE = ReplacingMergeTree(position) ORDER BY projector""",
        ),
    ),
    (
        2,
        "returns",
        (
            f"""CREATE TABLE IF NOT EXISTS return_lines (
                tenant_id UUID, return_id UUID, line_no UInt32, order_id UUID,
                store LowCardinality(String), sku LowCardinality(String), quantity Int32,
                reason LowCardinality(String), category LowCardinality(String),
                authorized_at {TIME}
            ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, return_id, line_no)""",
        ),
    ),
]


_ROLLUP = """CREATE TABLE IF NOT EXISTS {table} (
    tenant_id UUID, {keys}, {values}, version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant_id, {order})"""
_SALES = f"orders UInt64, units Int64, gross {TOTAL}, discount {TOTAL}, cancelled {TOTAL}"
_DIMENSIONS = (
    "store LowCardinality(String), channel LowCardinality(String), "
    "{third} LowCardinality(String), currency LowCardinality(String)"
)
MIGRATIONS.append(
    (
        3,
        "rollups",
        (
            ADD_CANCELLED_VALUE,
            _ROLLUP.format(
                table="hourly_sales",
                keys="hour DateTime('UTC'), " + _DIMENSIONS.format(third="country"),
                values=_SALES,
                order="hour, store, channel, country, currency",
            ),
            _ROLLUP.format(
                table="daily_categories",
                keys="day Date, " + _DIMENSIONS.format(third="category"),
                values=_SALES,
                order="day, store, channel, category, currency",
            ),
            _ROLLUP.format(
                table="customer_daily",
                keys="day Date, customer String, store LowCardinality(String), "
                "currency LowCardinality(String)",
                values=f"orders UInt64, revenue {TOTAL}, first_at {TIME}, last_at {TIME}",
                order="customer, day, store, currency",
            ),
            # A customer's first order per store, for new vs returning customers. min() gives
            # the same answer however often a row arrives, so a materialized view over the
            # recomputed customer_daily rows stays exact (sums would count every replay).
            f"""CREATE TABLE IF NOT EXISTS customer_firsts (
                tenant_id UUID, customer String, store LowCardinality(String),
                first_at SimpleAggregateFunction(min, {TIME})
            ) ENGINE = AggregatingMergeTree ORDER BY (tenant_id, customer, store)""",
            """CREATE MATERIALIZED VIEW IF NOT EXISTS customer_firsts_from_days
            TO customer_firsts AS SELECT tenant_id, customer, store, min(first_at) AS first_at
            FROM customer_daily GROUP BY tenant_id, customer, store""",
            # daily_sales rows were versioned by batch position before; now by the newest line
            # they sum, which a replay reproduces: rebuild them all.
            "TRUNCATE TABLE daily_sales",
            *(
                rollup.recompute("1")
                for rollup in (HOURLY_SALES, DAILY_SALES, DAILY_CATEGORIES, CUSTOMER_DAILY)
            ),
            # Period edges and the rollups' recomputation select lines by time: granules of a
            # batch hold lines of nearby times, so a min-max index skips most of a partition.
            "ALTER TABLE order_lines ADD INDEX IF NOT EXISTS placed_at_range placed_at "
            "TYPE minmax GRANULARITY 1",
            "ALTER TABLE order_lines MATERIALIZE INDEX placed_at_range",
            "ALTER TABLE shipments ADD INDEX IF NOT EXISTS shipped_at_range shipped_at "
            "TYPE minmax GRANULARITY 1",
            "ALTER TABLE shipments MATERIALIZE INDEX shipped_at_range",
        ),
    )
)

MIGRATIONS.append(
    (
        4,
        "customer_totals",
        (
            # Every customer's orders, revenue, first and last order so far, per store and over
            # all stores (store ''): the customers report reads a row per customer (ADR 0048).
            f"""CREATE TABLE IF NOT EXISTS customer_totals (
                tenant_id UUID, store LowCardinality(String), customer String,
                currency LowCardinality(String), orders UInt64, revenue {TOTAL},
                first_at {TIME}, last_at {TIME}, version UInt64
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (tenant_id, store, customer, currency)""",
            _customer_totals_before_returns("1"),
        ),
    )
)
MIGRATIONS.append(
    (
        5,
        "shipping_daily",
        (
            # Fulfilment per day shipped, store, location and carrier: exact percentiles and
            # on-time rates from arrays of seconds, distinct orders as a set (ADR 0048).
            f"""CREATE TABLE IF NOT EXISTS shipping_daily (
                tenant_id UUID, day Date, store LowCardinality(String),
                location LowCardinality(String), carrier LowCardinality(String),
                shipments UInt64, ship_seconds Array(Int64), deliver_seconds Array(Int64),
                cost {TOTAL}, cost_currency LowCardinality(String), units Int64,
                short_units Int64, orders AggregateFunction(uniqExact, UUID), version UInt64
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (tenant_id, day, store, location, carrier)""",
            recompute_shipping_daily("1"),
        ),
    )
)

# A customer's first order per store and over all stores (store ''), from the customer_daily
# rows as they are recomputed: min() is exact however often a row arrives (ADR 0049).
_FIRST_ORDERS = (
    f"SELECT tenant_id, per_store AS store, customer, min(first_at) AS first_at "
    f"FROM customer_daily ARRAY JOIN [toString(store), '{ALL_STORES}'] AS per_store "
    "GROUP BY tenant_id, per_store, customer"
)
MIGRATIONS.append(
    (
        6,
        "overview_customers",
        (
            # The overview's customers without reading every customer (ADR 0049): who ordered
            # in a period from daily distinct sets, who ordered first in it from first orders
            # kept in store order (customer_firsts, keyed by customer first, goes).
            _ROLLUP.format(
                table="daily_customers",
                keys="day Date, store LowCardinality(String)",
                values="customers AggregateFunction(uniqExact, String)",
                order="day, store",
            )
            # Granules of 64 rows: reading a period's sets must not decode the whole table's.
            + " SETTINGS index_granularity = 64",
            DAILY_CUSTOMERS.recompute("1"),
            f"""CREATE TABLE IF NOT EXISTS customer_first_orders (
                tenant_id UUID, store LowCardinality(String), customer String,
                first_at SimpleAggregateFunction(min, {TIME})
            ) ENGINE = AggregatingMergeTree ORDER BY (tenant_id, store, customer)""",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS customer_first_orders_from_days "
            f"TO customer_first_orders AS {_FIRST_ORDERS}",
            f"INSERT INTO customer_first_orders {_FIRST_ORDERS}",
            "DROP VIEW IF EXISTS customer_firsts_from_days",
            "DROP TABLE IF EXISTS customer_firsts",
        ),
    )
)

MIGRATIONS.append(
    (
        7,
        "order_lines_in_time_order",
        (
            # Lines sorted by when they were placed (ADR 0050): a period's partial hours and
            # days, and the days a batch touched, are then a few granules instead of every
            # granule of their month (sorted by order id, a granule spans the whole month). A
            # line's placed_at never changes, so the key still names one line. Rebuilt by copy
            # and exchange; rerun after a crash at any step, it ends with the same table.
            ADD_CANCELLED_VALUE,
            *ADD_DISCOUNT_TERMS,
            "DROP TABLE IF EXISTS order_lines_rekeyed",
            f"""CREATE TABLE order_lines_rekeyed ({_ORDER_LINE_COLUMNS}
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (tenant_id, placed_at, order_id, line_no)
            PARTITION BY toYYYYMM(placed_at)""",
            # FINAL: rows that later migrations re-inserted at the same version (10) are
            # decided by insert order, which a copy of every version would not keep.
            "INSERT INTO order_lines_rekeyed SELECT * FROM order_lines FINAL",
            "EXCHANGE TABLES order_lines AND order_lines_rekeyed",
            "DROP TABLE order_lines_rekeyed",
        ),
    )
)

MIGRATIONS.append(
    (
        8,
        "shipping_costs_per_currency",
        (
            # shipping_daily keyed by cost currency too (ADR 0050): a day's costs of one
            # location and carrier billed in two currencies were summed into one amount. The
            # rollup is derived from `shipments`, so it is rebuilt from them.
            "DROP TABLE IF EXISTS shipping_daily",
            f"""CREATE TABLE shipping_daily (
                tenant_id UUID, day Date, store LowCardinality(String),
                location LowCardinality(String), carrier LowCardinality(String),
                cost_currency LowCardinality(String), shipments UInt64,
                ship_seconds Array(Int64), deliver_seconds Array(Int64), cost {TOTAL},
                units Int64, short_units Int64, orders AggregateFunction(uniqExact, UUID),
                version UInt64
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (tenant_id, day, store, location, carrier, cost_currency)""",
            recompute_shipping_daily("1"),
        ),
    )
)


def _rounded_to_minor_unit(amount: str) -> str:
    """SQL: `amount` rounded half to even to the minor unit of the row's currency."""
    other = sorted({units for units in MINOR_UNITS.values() if units != 2})
    cases = [
        f"currency IN ({', '.join(repr(c) for c, n in sorted(MINOR_UNITS.items()) if n == units)})"
        f", roundBankers({amount}, {units})"
        for units in other
    ]
    return f"multiIf({', '.join(cases)}, roundBankers({amount}, 2))"


# Cancelled units valued net of their share of the line's discount (ADR 0056): a line cancelled
# in full was valued at its price, so a discounted order cancelled in full counted as minus its
# discount in net sales and lifetime value. Existing lines are valued as the projector values
# them (`facts.cancelled_value`: shares proportional to the units, rounded half to even to the
# currency's minor unit; 12 decimals before rounding decide the same ties as exact division
# for any line under 10^8 units). Then the rollup rows and customer totals of the days and
# customers with such lines are recomputed (same versions: the newest insert wins).
_DISCOUNT_SHARE = _rounded_to_minor_unit(
    "toDecimal128(discount, 12) * cancelled_quantity / quantity"
)
_DISCOUNTED_CANCELS = "cancelled_quantity > 0 AND discount > 0"
_DAYS_WITH_DISCOUNTED_CANCELS = (
    "(tenant_id, toDate(placed_at)) IN (SELECT tenant_id, toDate(placed_at) FROM order_lines "
    f"WHERE {_DISCOUNTED_CANCELS})"
)
MIGRATIONS.append(
    (
        9,
        "cancellations_net_of_discounts",
        (
            ADD_CANCELLED_VALUE,
            "ALTER TABLE order_lines UPDATE cancelled_value = "
            f"toDecimal64(unit_price * cancelled_quantity - {_DISCOUNT_SHARE}, 4) "
            "WHERE cancelled_quantity > 0 SETTINGS mutations_sync = 2",
            *(
                rollup.recompute(_DAYS_WITH_DISCOUNTED_CANCELS)
                for rollup in (HOURLY_SALES, DAILY_SALES, DAILY_CATEGORIES, CUSTOMER_DAILY)
            ),
            _customer_totals_before_returns(_DISCOUNTED_CANCELS),
        ),
    )
)


# A line's own discount and its order's as terms (ADR 0057), for lines placed before the
# columns: taken from the order's OrderPlaced and the lines its edits added, as the raw events
# table holds them (the JSON the projector writes too), for the orders with a discount.
# Re-inserted at the same version: the newest insert wins.
_ORDER_DISCOUNT = "JSONExtractRaw(placed, 'discount')"
_LINE_DISCOUNT = (
    "JSONExtractRaw(arrayFirst(x -> JSONExtractUInt(x, 'line_no') = line_no, "
    "arrayConcat(JSONExtractArrayRaw(placed, 'lines'), added)), 'discount')"
)
_WITH_TERMS = ", ".join(
    {
        "line_discount_terms": f"if({_LINE_DISCOUNT} IN ('', 'null'), '', {_LINE_DISCOUNT})",
        "order_discount_terms": f"if({_ORDER_DISCOUNT} IN ('', 'null'), '', {_ORDER_DISCOUNT})",
    }.get(column, column)
    for column in _ORDER_LINE_COLUMNS_10
)
_ORDER_EVENTS = """SELECT tenant_id, stream_id AS order_id,
    anyIf(data, topic = 'order.OrderPlaced') AS placed,
    arrayFlatten(groupArrayIf(JSONExtractArrayRaw(data, 'added'),
        topic = 'order.OrderLinesEdited')) AS added
FROM events WHERE topic IN ('order.OrderPlaced', 'order.OrderLinesEdited')
GROUP BY tenant_id, order_id"""
MIGRATIONS.append(
    (
        10,
        "order_discount_terms",
        (
            *ADD_DISCOUNT_TERMS,
            f"INSERT INTO order_lines ({', '.join(_ORDER_LINE_COLUMNS_10)}) SELECT {_WITH_TERMS} "
            "FROM (SELECT * FROM order_lines FINAL WHERE (tenant_id, order_id) IN "
            "(SELECT tenant_id, order_id FROM order_lines WHERE discount > 0)) AS l "
            f"INNER JOIN ({_ORDER_EVENTS}) AS e USING (tenant_id, order_id)",
        ),
    )
)


# Invoices' refunds with what was paid beyond them and given back (ADR 0058), for invoices
# with such refunds before the fold counted them: `refunded` recomputed from the raw events
# (credit notes of refunds plus overpayments refunded, as the invoice's own state sums them),
# so a rerun sets the same amount; the version moves past the events it now includes.
_INVOICE_REFUNDS = """SELECT tenant_id, stream_id AS invoice_id,
    sumIf(toDecimal64(JSONExtractString(data, 'amount', 'amount'), 4),
        topic = 'invoice.OverpaymentRefunded'
        OR JSONExtractRaw(data, 'refund_id') NOT IN ('', 'null')) AS refunds,
    maxIf(position, topic = 'invoice.OverpaymentRefunded') AS last
FROM events WHERE topic IN ('invoice.OverpaymentRefunded', 'invoice.CreditNoteIssued')
GROUP BY tenant_id, invoice_id HAVING countIf(topic = 'invoice.OverpaymentRefunded') > 0"""
_WITH_REFUNDS = ", ".join(
    {"refunded": "refunds", "version": "greatest(version, last)"}.get(column, column)
    for column in _INVOICE_COLUMNS_11
)
MIGRATIONS.append(
    (
        11,
        "overpayments_refunded",
        (
            f"INSERT INTO invoices ({', '.join(_INVOICE_COLUMNS_11)}) SELECT {_WITH_REFUNDS} "
            f"FROM invoices FINAL INNER JOIN ({_INVOICE_REFUNDS}) AS r "
            "USING (tenant_id, invoice_id)",
        ),
    )
)


MIGRATIONS.append(
    (
        12,
        "refunds_returned",
        (
            # What each refund took back of the sales (ADR 0059); migration 15 fills it for
            # the refunds recorded before.
            f"ALTER TABLE payments ADD COLUMN IF NOT EXISTS returned {MONEY} DEFAULT 0 "
            "AFTER amount",
        ),
    )
)


# A refund's customer and store, the order's (ADR 0059): returns lower lifetime value. For
# refunds recorded before the columns, from the order's lines; re-inserted rows replace them.
_ORDER_CUSTOMERS = """SELECT tenant_id, order_id, any(customer) AS order_customer,
    any(store) AS order_store
FROM order_lines FINAL WHERE order_id IN (SELECT order_id FROM payments WHERE kind = 'refund')
GROUP BY tenant_id, order_id"""
MIGRATIONS.append(
    (
        13,
        "refunds_by_customer",
        (
            "ALTER TABLE payments ADD COLUMN IF NOT EXISTS customer String DEFAULT '' "
            "AFTER order_id",
            "ALTER TABLE payments ADD COLUMN IF NOT EXISTS store LowCardinality(String) "
            "DEFAULT '' AFTER customer",
            f"INSERT INTO payments ({', '.join(_PAYMENT_COLUMNS_13)}) SELECT "
            + ", ".join(
                {"customer": "order_customer", "store": "order_store"}.get(c, c)
                for c in _PAYMENT_COLUMNS_13
            )
            + f" FROM payments FINAL INNER JOIN ({_ORDER_CUSTOMERS}) AS o "
            "USING (tenant_id, order_id) WHERE kind = 'refund'",
        ),
    )
)

MIGRATIONS.append(
    (
        14,
        "customer_totals_net_of_returns",
        (
            # What refunds took back of each customer's orders, beside their revenue (ADR
            # 0059), for the customers with such refunds.
            f"ALTER TABLE customer_totals ADD COLUMN IF NOT EXISTS returned {TOTAL} DEFAULT 0 "
            "AFTER revenue",
            recompute_customer_totals(
                "(tenant_id, order_id) IN (SELECT tenant_id, order_id FROM payments "
                "WHERE kind = 'refund' AND returned != 0)"
            ),
        ),
    )
)


# Returns as goods (ADR 0059 amended): each credit-note share of a refund counts its invoice's
# part of lines after discounts (`subtotal - discount`), not of shipping or tax, as the fold
# now counts it (`facts._goods_returned`); recomputed for every refund from the raw events, so a
# rerun sets the same, then the customer totals of those refunds.
_SHARE_GOODS = _rounded_to_minor_unit(
    "toDecimal128(share_amount, 12) * (subtotal - discount) / total"
)
_REFUND_GOODS = f"""SELECT tenant_id, id,
    sum(if(total = 0, toDecimal128(share_amount, 4), toDecimal128({_SHARE_GOODS}, 4))) AS goods
FROM (
    SELECT tenant_id, toUUID(JSONExtractString(data, 'refund_id')) AS id,
        toUUID(JSONExtractString(share, 'invoice_id')) AS invoice_id,
        toDecimal64(JSONExtractString(share, 'amount', 'amount'), 4) AS share_amount,
        JSONExtractString(share, 'amount', 'currency') AS currency
    FROM events ARRAY JOIN JSONExtractArrayRaw(data, 'shares') AS share
    WHERE topic = 'payment.RefundRecorded'
        AND JSONExtractRaw(share, 'credit_note_id') NOT IN ('', 'null')) AS shares
LEFT JOIN (SELECT tenant_id, invoice_id, subtotal, discount, total FROM invoices FINAL) AS i
    USING (tenant_id, invoice_id)
GROUP BY tenant_id, id"""
MIGRATIONS.append(
    (
        15,
        "returns_as_goods",
        (
            f"INSERT INTO payments ({', '.join(_PAYMENT_COLUMNS_13)}) SELECT "
            + ", ".join(
                "toDecimal64(goods, 4)" if c == "returned" else c for c in _PAYMENT_COLUMNS_13
            )
            + f" FROM payments FINAL INNER JOIN ({_REFUND_GOODS}) AS g USING (tenant_id, id) "
            "WHERE kind = 'refund'",
            recompute_customer_totals(
                "(tenant_id, order_id) IN (SELECT tenant_id, order_id FROM payments "
                "WHERE kind = 'refund' AND returned != 0)"
            ),
        ),
    )
)


def migrate(client: SharedClient) -> list[int]:
    """Applies the migrations this database has not seen; returns their numbers."""
    client.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, "
        "applied_at DateTime64(6, 'UTC') DEFAULT now64(6)) ENGINE = MergeTree ORDER BY version"
    )
    done = {row[0] for row in client.query("SELECT version FROM schema_migrations").result_rows}
    applied = []
    for version, name, statements in MIGRATIONS:
        if version in done:
            continue
        for statement in statements:
            client.command(statement)
        client.insert("schema_migrations", [(version, name)], column_names=["version", "name"])
        applied.append(version)
    return applied
