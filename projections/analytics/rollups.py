"""Rollups of `order_lines`: the same sums per hour or day and a few keys, so that reports read
thousands of rows instead of every order line (ADR 0045).

A rollup row is recomputed from `order_lines FINAL` for every (tenant, day) a batch touched and
inserted with `version` = the newest line version it sums. Its keys (a line's time, store,
channel, country, SKU, customer) never change once placed, so a recomputed row replaces the one
before it (ReplacingMergeTree, read with FINAL) and a replay writes identical rows. An order
lies in one hour, store and currency, so `orders` (a distinct count per row) adds up exactly
across rows, as the other sums do.

A report period need not start or end on the rollup's grain: `source()` reads whole hours or
days from the rollup and the partial ones at either end from `order_lines`, aggregated to the
same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

SALES_VALUES = (
    ("orders", "uniqExact(order_id)"),
    ("units", "sum(quantity - cancelled_quantity)"),
    ("gross", "sum(gross)"),
    ("discount", "sum(discount)"),
    # What cancelled units no longer bring in, net of their share of the discount (ADR 0056).
    ("cancelled", "sum(cancelled_value)"),
)
MICROS = "fromUnixTimestamp64Micro({%s:Int64}, 'UTC')"


@dataclass(frozen=True)
class Rollup:
    table: str
    grain: str  # "hour" or "day": the first key, a line's placing time truncated
    keys: tuple[tuple[str, str], ...]  # (column, expression over order_lines), tenant_id aside
    values: tuple[tuple[str, str], ...]

    @property
    def time(self) -> str:
        return self.keys[0][0]

    def columns(self) -> str:
        return ", ".join(["tenant_id", *(column for column, _ in (*self.keys, *self.values))])

    def aggregate(self) -> str:
        """The rollup's columns, as a SELECT list over `order_lines` grouped by its keys."""
        return ", ".join(
            ["tenant_id", *(f"{expr} AS {column}" for column, expr in (*self.keys, *self.values))]
        )

    def group_by(self) -> str:
        return ", ".join(["tenant_id", *(column for column, _ in self.keys)])

    def recompute(self, where: str) -> str:
        """INSERT ... SELECT of every row of the (tenant, day)s that `where` selects."""
        return (
            f"INSERT INTO {self.table} ({self.columns()}, version) "
            f"SELECT {self.aggregate()}, max(version) AS version "
            f"FROM order_lines FINAL WHERE {where} GROUP BY {self.group_by()}"
        )

    def source(self, where: str, body: bool, edges: bool, final: bool = True) -> str:
        """Rows of the rollup for [start, end) and `where` (tenant, store...): whole hours or
        days [body_start, body_end) from the rollup, the edges from `order_lines`. Parameters:
        start, end, body_start, body_end (µs since the epoch, UTC). Without `final`, a row may
        come with its superseded versions: only for readers of existence, min or max."""
        parts = []
        if body:
            parts.append(
                f"SELECT {self.columns()} FROM {self.table} {'FINAL' if final else ''} "
                f"WHERE {where} AND {self.in_body('')}"
            )
        if edges:
            parts.append(
                f"SELECT {self.aggregate()} FROM order_lines FINAL WHERE {where} "
                f"AND {in_edges('')} GROUP BY {self.group_by()}"
            )
        return "(" + " UNION ALL ".join(parts) + ")"

    def periods_source(self, where: str, suffixes: list[str], body: bool, edges: bool) -> str:
        """`source` for several periods in one read of each table: the parameters of period n
        (from 1) end in `suffixes[n - 1]`, and every row carries the `period` it lies in (a
        row in two overlapping periods comes once for each)."""
        parts = []
        if body:
            parts.append(
                f"SELECT {tagged([self.in_body(s) for s in suffixes])} AS period, "
                f"{self.columns()} FROM {self.table} FINAL "
                f"WHERE {where} AND {any_of([self.in_body(s) for s in suffixes])}"
            )
        if edges:
            ranges = [in_edges(s) for s in suffixes]
            parts.append(
                f"SELECT {tagged(ranges)} AS period, {self.aggregate()} FROM order_lines FINAL "
                f"WHERE {where} AND {any_of(ranges)} GROUP BY period, {self.group_by()}"
            )
        return "(" + " UNION ALL ".join(parts) + ")"

    def in_body(self, suffix: str) -> str:
        cast = "toDateTime({}, 'UTC')" if self.grain == "hour" else "toDate({})"
        return (
            f"{self.time} >= {cast.format(MICROS % f'body_start{suffix}')} "
            f"AND {self.time} < {cast.format(MICROS % f'body_end{suffix}')}"
        )


def in_edges(suffix: str) -> str:
    """A line placed in the period's partial hours or days at either end."""
    start, body_start, body_end, end = (
        MICROS % f"{name}{suffix}" for name in ("start", "body_start", "body_end", "end")
    )
    return (
        f"((placed_at >= {start} AND placed_at < {body_start})"
        f" OR (placed_at >= {body_end} AND placed_at < {end}))"
    )


def tagged(conditions: list[str]) -> str:
    """The periods (from 1) whose condition a row meets, one row each (ARRAY JOIN). Rows are
    read where they meet any condition (`any_of`), so with one period every row is in it."""
    if len(conditions) == 1:
        return "1"
    matches = " OR ".join(f"(n = {n} AND {c})" for n, c in enumerate(conditions, start=1))
    return f"arrayJoin(arrayFilter(n -> {matches}, range(1, {len(conditions) + 1})))"


def any_of(conditions: list[str]) -> str:
    return "(" + " OR ".join(f"({c})" for c in conditions) + ")"


HOURLY_SALES = Rollup(
    "hourly_sales",
    "hour",
    (
        ("hour", "toDateTime(toStartOfHour(placed_at), 'UTC')"),
        ("store", "store"),
        ("channel", "channel"),
        ("country", "country"),
        ("currency", "currency"),
    ),
    SALES_VALUES,
)
DAILY_SALES = Rollup(
    "daily_sales",
    "day",
    (
        ("day", "toDate(placed_at)"),
        ("store", "store"),
        ("channel", "channel"),
        ("sku", "sku"),
        ("currency", "currency"),
    ),
    SALES_VALUES,
)
# Products carry no category yet: the SKU's family prefix stands in for it (ADR 0025).
DAILY_CATEGORIES = Rollup(
    "daily_categories",
    "day",
    (
        ("day", "toDate(placed_at)"),
        ("store", "store"),
        ("channel", "channel"),
        ("category", "splitByChar('-', sku)[1]"),
        ("currency", "currency"),
    ),
    SALES_VALUES,
)
CUSTOMER_DAILY = Rollup(
    "customer_daily",
    "day",
    (
        ("day", "toDate(placed_at)"),
        ("customer", "customer"),
        ("store", "store"),
        ("currency", "currency"),
    ),
    (
        ("orders", "uniqExact(order_id)"),
        ("revenue", "sum(net - cancelled_value)"),
        ("first_at", "min(placed_at)"),
        ("last_at", "max(placed_at)"),
    ),
)
# The customers who ordered on a day in a store, as an exact distinct set (`uniqExactState`,
# which merges across days and stores): how many customers ordered in a period (ADR 0049).
DAILY_CUSTOMERS = Rollup(
    "daily_customers",
    "day",
    (("day", "toDate(placed_at)"), ("store", "store")),
    (("customers", "uniqExactState(customer)"),),
)
# daily_customers before customer_daily, whose recomputation feeds the first orders: a read in
# between may count a customer as active and not yet new, never as new and not yet active.
ROLLUPS = (HOURLY_SALES, DAILY_SALES, DAILY_CATEGORIES, DAILY_CUSTOMERS, CUSTOMER_DAILY)

# Every customer's totals so far, per store and over all stores (store ''), so that the
# customers report reads one row per customer instead of a row per customer-day (ADR 0048).
# Recomputed from `customer_daily FINAL` for every customer with a line on a day a batch
# touched, or with a refund in it; `version` is the newest version among the rows it sums, so,
# as for the rollups, the newest row wins and a replay writes identical rows (a refund's
# recomputation keeps the version: the last insert wins). Keys are immutable attributes of a
# line. `returned`: what refunds took back of the customer's orders (ADR 0059).
CUSTOMER_TOTALS_COLUMNS = (
    "tenant_id, store, customer, currency, orders, revenue, returned, first_at, last_at, version"
)
ALL_STORES = ""
PER_STORE = f"ARRAY JOIN [toString(store), '{ALL_STORES}'] AS per_store"


def recompute_customer_totals(where: str) -> str:
    """INSERT ... SELECT of the totals of every customer with a line that `where` (over
    `order_lines`) selects: one row per store and one over all stores."""
    customers = (
        f"(tenant_id, customer) IN (SELECT DISTINCT tenant_id, customer FROM order_lines "
        f"WHERE {where})"
    )
    keys = "tenant_id, per_store, customer, currency"
    return (
        f"INSERT INTO customer_totals ({CUSTOMER_TOTALS_COLUMNS}) "
        f"SELECT {keys}, all_orders, sold, took_back, first, last, newest FROM ("
        "SELECT tenant_id, per_store, customer, currency, sum(orders) AS all_orders, "
        "sum(revenue) AS sold, min(first_at) AS first, max(last_at) AS last, "
        "max(version) AS newest "
        f"FROM customer_daily FINAL {PER_STORE} WHERE {customers} GROUP BY {keys}) AS bought "
        "LEFT JOIN ("
        f"SELECT {keys}, sum(returned) AS took_back FROM payments FINAL {PER_STORE} "
        f"WHERE kind = 'refund' AND returned != 0 AND {customers} GROUP BY {keys}"
        f") AS back USING ({keys}) SETTINGS join_use_nulls = 0"
    )


# Fulfilment per day a shipment shipped, store, location and carrier (ADR 0048): the times to
# ship and to deliver as arrays of seconds, so that exact percentiles and on-time rates for any
# SLA come from the days' arrays (`quantileExactArray`, `arrayCount`), and the orders as an
# exact distinct set (`uniqExactState`), which merges across days. A ReplacingMergeTree
# recomputed from `shipments FINAL` for every (tenant, day) a batch shipped or delivered on:
# once shipped, a shipment keeps its day, store, location and carrier (labelling comes before
# shipping), so a recomputed row replaces the one before it.
SHIPPING_FIELDS = "shipments, ship_seconds, deliver_seconds, cost, units, short_units, orders"
# Costs are summed per currency (ADR 0050): a location and carrier may be billed in two.
SHIPPING_KEYS = "location, carrier, cost_currency"
SHIPPING_DAILY_COLUMNS = f"tenant_id, day, store, {SHIPPING_KEYS}, {SHIPPING_FIELDS}"
SHIPPING_VALUES = (
    "count() AS shipments, "
    "groupArrayIf(assumeNotNull(dateDiff('second', order_placed_at, shipped_at)), "
    "order_placed_at IS NOT NULL) AS ship_seconds, "
    "groupArrayIf(assumeNotNull(dateDiff('second', shipped_at, delivered_at)), "
    "delivered_at IS NOT NULL) AS deliver_seconds, "
    "sum(cost) AS cost, sum(units) AS units, "
    "sum(short_units) AS short_units, uniqExactState(order_id) AS orders"
)


def recompute_shipping_daily(where: str) -> str:
    """INSERT ... SELECT of every row of the (tenant, day)s that `where` (over `shipments`)
    selects. Shipments are found by their time first (a min-max index, no FINAL), then read
    with FINAL by id."""
    return (
        f"INSERT INTO shipping_daily ({SHIPPING_DAILY_COLUMNS}, version) "
        f"SELECT tenant_id, toDate(assumeNotNull(shipped_at)) AS day, store, {SHIPPING_KEYS}, "
        f"{SHIPPING_VALUES}, max(version) AS version FROM shipments FINAL "
        f"WHERE shipped_at IS NOT NULL AND {where} AND shipment_id IN "
        f"(SELECT shipment_id FROM shipments WHERE {where}) "
        f"GROUP BY tenant_id, day, store, {SHIPPING_KEYS}"
    )


def shipping_source(where: str, body: bool, edges: bool) -> str:
    """Rows of `shipping_daily` for [start, end) and `where`: whole days from the rollup, the
    partial days at either end from `shipments` (same parameters as `Rollup.source`)."""
    parts = []
    if body:
        parts.append(
            f"SELECT {SHIPPING_KEYS}, {SHIPPING_FIELDS} "
            f"FROM shipping_daily FINAL WHERE {where} "
            f"AND day >= toDate({MICROS % 'body_start'}) AND day < toDate({MICROS % 'body_end'})"
        )
    if edges:
        parts.append(
            f"SELECT {SHIPPING_KEYS}, {SHIPPING_VALUES} FROM shipments FINAL WHERE {where} "
            f"AND shipped_at IS NOT NULL "
            f"AND ((shipped_at >= {MICROS % 'start'} AND shipped_at < {MICROS % 'body_start'})"
            f" OR (shipped_at >= {MICROS % 'body_end'} AND shipped_at < {MICROS % 'end'})) "
            f"GROUP BY {SHIPPING_KEYS}"
        )
    return "(" + " UNION ALL ".join(parts) + ")"
