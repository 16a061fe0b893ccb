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
    ("cancelled", "sum(unit_price * cancelled_quantity)"),
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
        cast = "toDateTime({}, 'UTC')" if self.grain == "hour" else "toDate({})"
        parts = []
        if body:
            parts.append(
                f"SELECT {self.columns()} FROM {self.table} {'FINAL' if final else ''} "
                f"WHERE {where} "
                f"AND {self.time} >= {cast.format(MICROS % 'body_start')} "
                f"AND {self.time} < {cast.format(MICROS % 'body_end')}"
            )
        if edges:
            parts.append(
                f"SELECT {self.aggregate()} FROM order_lines FINAL WHERE {where} "
                f"AND ((placed_at >= {MICROS % 'start'} AND placed_at < {MICROS % 'body_start'})"
                f" OR (placed_at >= {MICROS % 'body_end'} AND placed_at < {MICROS % 'end'})) "
                f"GROUP BY {self.group_by()}"
            )
        return "(" + " UNION ALL ".join(parts) + ")"


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
        ("revenue", "sum(net - unit_price * cancelled_quantity)"),
        ("first_at", "min(placed_at)"),
        ("last_at", "max(placed_at)"),
    ),
)
ROLLUPS = (HOURLY_SALES, DAILY_SALES, DAILY_CATEGORIES, CUSTOMER_DAILY)

# Every customer's totals so far, per store and over all stores (store ''), so that the
# customers report reads one row per customer instead of a row per customer-day (ADR 0048).
# Recomputed from `customer_daily FINAL` for every customer with a line on a day a batch
# touched; `version` is the newest version among the rows it sums, so, as for the rollups, the
# newest row wins and a replay writes identical rows. Keys are immutable attributes of a line.
CUSTOMER_TOTALS_COLUMNS = (
    "tenant_id, store, customer, currency, orders, revenue, first_at, last_at, version"
)
ALL_STORES = ""


def recompute_customer_totals(where: str) -> str:
    """INSERT ... SELECT of the totals of every customer with a line that `where` (over
    `order_lines`) selects: one row per store and one over all stores."""
    return (
        f"INSERT INTO customer_totals ({CUSTOMER_TOTALS_COLUMNS}) "
        "SELECT tenant_id, per_store, customer, currency, sum(orders), sum(revenue), "
        "min(first_at), max(last_at), max(version) "
        f"FROM customer_daily FINAL ARRAY JOIN [toString(store), '{ALL_STORES}'] AS per_store "
        "WHERE (tenant_id, customer) IN "
        f"(SELECT DISTINCT tenant_id, customer FROM order_lines WHERE {where}) "
        "GROUP BY tenant_id, per_store, customer, currency"
    )
