"""ClickHouse analytics: money totals equal the Postgres reconciliation to the cent, after a
replay from zero and after the projector died at any point of a batch."""

from __future__ import annotations

import gc
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.embedded.clickhouse import HANDLES, SharedClient, shared_client
from application.context import CommandContext
from application.invoices import NewPayment
from application.orders import NewOrder
from application.ports import Append
from domain.invoice.pricing import LineCharge, TaxPolicy, price, round_to
from domain.order.decide import LineChange, RequestedLine
from domain.order.events import Address, Customer, Discount, DiscountKind
from domain.order.state import Order
from domain.shared.money import Money
from domain.shipment.events import ShipmentCreated, ShipmentLine, ShipmentShipped
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from interfaces.seed_history import seed_history
from projections import finance
from projections.analytics import projector as projector_module
from projections.analytics import queries, reports, rfm, schema
from projections.analytics.facts import SHIPMENT_COLUMNS, Facts
from projections.analytics.folds import group_key
from projections.analytics.projector import FACT_TABLES, AnalyticsProjector
from projections.analytics.rollups import recompute_shipping_daily
from projections.runner import start_runners, wait_until_caught_up
from tests.support.keys import secret_key_env

END = datetime(2026, 6, 1, tzinfo=UTC)
FIELDS = ("ordered", "shipped_value", "invoiced", "tax", "paid", "refunded")


class History:
    def __init__(self, container: Container, client: SharedClient, tenant_id: UUID) -> None:
        self.container = container
        self.client = client
        self.tenant_id = tenant_id

    def projector(self, **kwargs: Any) -> AnalyticsProjector:
        projector = AnalyticsProjector(self.container.datastore, self.client, **kwargs)
        projector.migrate()
        return projector

    def reconciled(self, start: datetime, end: datetime, store: str | None) -> dict[str, Any]:
        with self.container.datastore.transaction() as curs:
            report = finance.reconcile(
                curs, self.tenant_id, placed_from=start, placed_to=end, store=store
            )
        return {t.currency: {f: getattr(t, f) for f in FIELDS} for t in report.totals}

    def analysed(self, start: datetime, end: datetime, store: str | None) -> dict[str, Any]:
        scope = queries.Scope(self.tenant_id, start, end, store)
        return {
            row["currency"]: {f: Decimal(row[f]) for f in FIELDS}
            for row in queries.money_totals(self.client, scope)
        }

    def assert_totals_agree(self) -> None:
        for start, end, store in (
            (END - timedelta(days=60), END, None),
            (END - timedelta(days=20), END - timedelta(days=5), None),
            (END - timedelta(days=60), END, "web-uk"),
        ):
            expected = self.reconciled(start, end, store)
            assert expected, "the history has orders in every checked period"
            assert self.analysed(start, end, store) == expected
        lines = self.sums(
            "order_lines", "sum(gross)", "sum(net - cancelled_value)",
            "uniqExact(order_id)",
        )  # fmt: skip
        for rollup in ("hourly_sales", "daily_sales", "daily_categories"):
            gross, revenue, orders = self.sums(
                rollup, "sum(gross)", "sum(gross - discount - cancelled)", "sum(orders)"
            )
            assert (gross, revenue) == lines[:2]
            if rollup == "hourly_sales":  # by SKU or category: orders containing it, per row
                assert orders == lines[2]
        assert self.sums("customer_daily", "sum(revenue)", "sum(orders)") == lines[1:]
        for stores in ("store = ''", "store != ''"):  # over all stores, and per store
            totals = self.sums(
                "customer_totals", f"sumIf(revenue, {stores})", f"sumIf(orders, {stores})"
            )
            assert totals == lines[1:]

    def sums(self, table: str, *values: str) -> tuple[Any, ...]:
        return tuple(
            self.client.query(
                f"SELECT {', '.join(values)} FROM {table} FINAL WHERE tenant_id = {{t:UUID}}",
                parameters={"t": self.tenant_id},
            ).result_rows[0]
        )


@pytest.fixture(scope="module")
def history(settings: Settings) -> Iterator[History]:
    """Two months of orders, shipments, invoices, payments and refunds for one tenant, with
    the Postgres money read models caught up."""
    assert settings.clickhouse_url is not None
    migrate(settings)
    container = build_container(settings, pool_size=3)
    try:
        tenant = container.tenants.create("analytics")
        ctx = CommandContext(tenant_id=tenant.tenant_id, actor="system:test")
        seed_history(container, ctx, days=60, orders=140, skus=12, end=END)
        with ExitStack() as stack:
            for runner in start_runners(container.env):
                stack.enter_context(runner)
            wait_until_caught_up(container.datastore, timeout=60)
        yield History(container, shared_client(settings.clickhouse_url), tenant.tenant_id)
    finally:
        container.close()


def table_counts(client: SharedClient) -> dict[str, int]:
    return {
        t: client.query(f"SELECT count() FROM {t} FINAL").result_rows[0][0] for t in FACT_TABLES
    }


def test_totals_equal_the_reconciliation_after_a_replay_from_zero(history: History) -> None:
    projector = history.projector()
    projector.reset()
    assert projector.catch_up() > 0
    history.assert_totals_agree()


def test_a_replay_over_existing_rows_changes_nothing(history: History) -> None:
    history.projector().catch_up()
    before = table_counts(history.client)
    again = history.projector()
    again.client.command("TRUNCATE TABLE projector_position")
    again.forget()
    again.catch_up()
    assert table_counts(history.client) == before
    history.assert_totals_agree()


class Dies(Exception):
    pass


class DyingClient:
    """A client that dies at its `after`-th write, as a projector killed mid-batch would."""

    def __init__(self, client: SharedClient, after: int | str) -> None:
        self.client = client
        self.writes_left = after if isinstance(after, int) else 1_000
        self.dies_at_table = after if isinstance(after, str) else None

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.query(*args, **kwargs)

    def command(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.lstrip().startswith("INSERT"):
            self._write()
        return self.client.command(sql, *args, **kwargs)

    def insert(self, table: str, *args: Any, **kwargs: Any) -> None:
        if table == self.dies_at_table:
            raise Dies
        self._write()
        self.client.insert(table, *args, **kwargs)

    def _write(self) -> None:
        self.writes_left -= 1
        if self.writes_left < 0:
            raise Dies


def counts_of_a_clean_replay_then_emptied(history: History) -> dict[str, int]:
    """The table counts a replay from zero gives; the tables are left empty."""
    fresh = history.projector()
    fresh.reset()
    fresh.catch_up()
    expected = table_counts(history.client)
    fresh.reset()
    return expected


@pytest.mark.parametrize("dies_at_write", [0, 1, 2, 4, 6, 7, 8, 9, 10, "projector_position"])
def test_totals_converge_after_the_projector_dies_mid_batch(
    history: History, dies_at_write: int | str
) -> None:
    """A batch writes events, appended facts, folded rows, the four rollups, the customer
    totals, then its position; dying before any of them and restarting (caches lost) gives
    the same tables."""
    expected = counts_of_a_clean_replay_then_emptied(history)
    first = history.projector(batch_size=1_000)
    first.run_once()
    first.client = DyingClient(history.client, dies_at_write)  # type: ignore[assignment]
    with pytest.raises(Dies):
        first.run_once()
    history.projector(batch_size=700).catch_up()  # a new process: nothing cached
    assert table_counts(history.client) == expected
    history.assert_totals_agree()


def writes_of_a_catch_up(history: History, **kwargs: Any) -> int:
    """How many writes a catch-up from zero makes (the tables are left empty)."""
    counting = DyingClient(history.client, 1_000_000)
    projector = history.projector(**kwargs)
    projector.reset()
    projector.client = counting  # type: ignore[assignment]
    projector.catch_up()
    projector.reset()
    return 1_000_000 - counting.writes_left


@pytest.mark.parametrize("dies_at", [0.3, 0.5, 0.7, 0.9])
def test_a_write_that_fails_while_the_next_batch_is_folded_loses_nothing(
    history: History, dies_at: float
) -> None:
    """Catching up, batch N+1 is folded (and its folds committed to the cache) while batch N is
    written. A write of a later batch fails: the same projector, caught up again, must not
    trust what it folded ahead of the failure."""
    expected = counts_of_a_clean_replay_then_emptied(history)
    writes = writes_of_a_catch_up(history, batch_size=500)
    projector = history.projector(batch_size=500)
    projector.client = DyingClient(history.client, int(writes * dies_at))  # type: ignore[assignment]
    with pytest.raises(Dies):
        projector.catch_up()
    projector.client = history.client
    projector.catch_up()
    assert table_counts(history.client) == expected
    history.assert_totals_agree()


@pytest.mark.parametrize("dies_at", [0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.97])
def test_a_catch_up_that_dies_between_positions_replays_the_batches_since(
    history: History, dies_at: float
) -> None:
    """Positions are stored every `settle_every` events, after the rollups of the days the
    batches since the last one touched (ADR 0061): dying after some of those batches were
    written, or while settling them, and catching up in a new process gives the same tables."""
    expected = counts_of_a_clean_replay_then_emptied(history)
    assert expected["events"] > 3 * 500, "the history needs several settles for this test"
    writes = writes_of_a_catch_up(history, batch_size=200, settle_every=500)
    dying = history.projector(batch_size=200, settle_every=500)
    dying.client = DyingClient(history.client, int(writes * dies_at))  # type: ignore[assignment]
    with pytest.raises(Dies):
        dying.catch_up()
    history.projector(batch_size=300).catch_up()  # a new process: nothing cached
    assert table_counts(history.client) == expected
    history.assert_totals_agree()


def test_days_recomputed_a_few_per_statement_give_the_same_tables(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settle recomputes its days in statements of at most DAYS_PER_STATEMENT (a statement's
    text is bounded): a customer whose days fall in several of them ends with the totals of
    all their days."""
    expected = counts_of_a_clean_replay_then_emptied(history)
    monkeypatch.setattr(projector_module, "DAYS_PER_STATEMENT", 3)
    projector = history.projector(batch_size=400)
    projector.reset()
    projector.catch_up()
    assert table_counts(history.client) == expected
    history.assert_totals_agree()


def test_an_event_type_it_does_not_know_is_kept_raw_and_skipped_by_the_facts(
    history: History,
) -> None:
    """Another part of Kontor may add events before analytics knows them."""
    import msgspec
    from eventsourcing.persistence import StoredEvent

    from application.ports import Metadata

    meta = Metadata(
        tenant_id=history.tenant_id, actor="system:future", correlation_id=uuid4(),
        recorded_at=END,
    )  # fmt: skip
    stream = uuid4()
    # The raw events keep an event's data as the JSON text stored, byte for byte.
    data = rb'{"colour": "teal \"sea\" \u00e9",  "shade":null}'
    state = b'{"v":1,"meta":' + msgspec.json.encode(meta) + b',"data":' + data + b"}"
    history.container.store.recorder.append(
        [
            StoredEvent(
                originator_id=stream, originator_version=1, topic="future.Happened", state=state
            )
        ]
    )
    try:
        projector = history.projector()
        projector.catch_up()
        assert projector.lag() == 0
    finally:  # other readers of this session's store (the relay) need not know the topic
        with history.container.datastore.transaction(commit=True) as curs:
            curs.execute("DELETE FROM kontor_events WHERE originator_id = %s", (stream,))
    stored = history.client.query(
        "SELECT topic, aggregate, actor, data FROM events FINAL WHERE stream_id = {s:UUID}",
        parameters={"s": stream},
    ).result_rows
    assert stored == [("future.Happened", "future", "system:future", data.decode())]
    projector.reset()  # the store no longer has it: neither should the tables of later tests
    projector.catch_up()
    history.assert_totals_agree()


def test_a_projector_process_killed_with_sigkill_converges(
    history: History, settings: Settings, tmp_path: Any
) -> None:
    """Two projector processes are killed (SIGKILL) just after a batch, likely inside the
    next one; a third catches up. Its tables equal a clean replay's, and its totals the
    reconciliation's."""
    env = (
        os.environ
        | secret_key_env(settings)
        | {
            "KONTOR_DATABASE_URL": settings.database_url or "",
            "KONTOR_CLICKHOUSE_URL": f"chdb://{tmp_path}",
            "KONTOR_DATA_DIR": str(tmp_path),
        }
    )
    command = [sys.executable, "-m", "tests.support.analytics_process"]
    for kill_after in (1, 4):
        with subprocess.Popen(
            [*command, "150"], env=env, stdout=subprocess.PIPE, text=True
        ) as process:
            assert process.stdout is not None
            for _ in range(kill_after):
                process.stdout.readline()
            time.sleep(0.01 * kill_after)
            process.send_signal(signal.SIGKILL)
    start, end = END - timedelta(days=60), END
    finished = subprocess.run(
        [*command, "700", str(history.tenant_id), start.isoformat(), end.isoformat()],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = json.loads(finished.stdout.splitlines()[-1])
    history.projector().catch_up()
    counts = table_counts(history.client)
    del counts["projector_position"]
    assert found["counts"] == counts
    totals = {t["currency"]: {f: Decimal(t[f]) for f in FIELDS} for t in found["totals"]}
    assert totals == history.reconciled(start, end, None)


LINE_SUMS = """
SELECT {key} AS key, currency, uniqExact(order_id) AS orders,
    sum(quantity - cancelled_quantity) AS units,
    sum(net - cancelled_value) AS revenue
FROM order_lines FINAL
WHERE tenant_id = {{tenant:UUID}} AND placed_at >= {{start:DateTime64(6, 'UTC')}}
  AND placed_at < {{end:DateTime64(6, 'UTC')}}
  AND ({{store:String}} = '' OR store = {{store:String}})
  AND ({{scoped:UInt8}} = 0 OR has({{stores:Array(String)}}, store))
GROUP BY key, currency
"""
NEW_AND_RETURNING = """
WITH active AS (
    SELECT DISTINCT customer FROM order_lines FINAL
    WHERE tenant_id = {tenant:UUID} AND placed_at >= {start:DateTime64(6, 'UTC')}
      AND placed_at < {end:DateTime64(6, 'UTC')}
      AND ({store:String} = '' OR store = {store:String})
      AND ({scoped:UInt8} = 0 OR has({stores:Array(String)}, store)))
SELECT countIf(first_at >= {start:DateTime64(6, 'UTC')}) AS new,
    countIf(first_at < {start:DateTime64(6, 'UTC')}) AS returning
FROM (
    SELECT customer, min(placed_at) AS first_at FROM order_lines FINAL
    WHERE tenant_id = {tenant:UUID} AND ({store:String} = '' OR store = {store:String})
      AND ({scoped:UInt8} = 0 OR has({stores:Array(String)}, store))
      AND customer IN active GROUP BY customer)
"""
KEYS = {
    "store": "store",
    "country": "country",
    "sku": "sku",
    "category": "splitByChar('-', sku)[1]",
}
ALIGN = {
    "none": lambda at: at,
    "hour": lambda at: at.replace(minute=0, second=0, microsecond=0),
    "day": lambda at: at.replace(hour=0, minute=0, second=0, microsecond=0),
}
# Period starts on and off the hour and day; lengths within one hour, one day, and across days.
MOMENTS = st.builds(
    lambda at, align: ALIGN[align](at),
    st.datetimes(
        min_value=datetime(2026, 3, 20), max_value=datetime(2026, 6, 2), timezones=st.just(UTC)
    ),
    st.sampled_from(list(ALIGN)),
)


@given(
    start=MOMENTS,
    length=st.sampled_from(
        [timedelta(minutes=20), timedelta(hours=5), timedelta(days=1), timedelta(days=9, hours=3)]
    ),
    store=st.sampled_from([None, "web-uk", frozenset({"web-uk", "marketplace"})]),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_reports_from_rollups_equal_sums_over_the_lines(
    history: History, start: datetime, length: timedelta, store: str | frozenset[str] | None
) -> None:
    """Whole hours and days come from the rollups, partial ones from the lines: any period
    gives what summing its order lines gives, for one store and for a store scope."""
    history.projector().catch_up()
    end = start + length
    one = store if isinstance(store, str) else None
    stores = store if isinstance(store, frozenset) else None
    scope = queries.Scope(history.tenant_id, start, end, one, stores)
    params = {
        "tenant": history.tenant_id, "start": start, "end": end, "store": one or "",
        "scoped": int(stores is not None), "stores": sorted(stores or ()),
    }  # fmt: skip
    for by, key in KEYS.items():
        lines = queries.rows(history.client, LINE_SUMS.format(key=key), params)
        for metric in ("orders", "units", "revenue"):
            expected: dict[tuple[str, str], Any] = {}
            for r in lines:
                k = (r["key"], r["currency"] if metric == "revenue" else "")
                expected[k] = expected.get(k, 0) + r[metric]
            found = queries.breakdown(history.client, scope, metric, by)
            assert {(r["key"], r["currency"]): r["value"] for r in found} == expected
    overview = queries.overview_values(history.client, scope)
    everything = queries.rows(history.client, LINE_SUMS.format(key="''"), params)
    assert overview[("orders", None)] == sum(r["orders"] for r in everything)
    assert overview[("units", None)] == sum(r["units"] for r in everything)
    (customers,) = queries.rows(history.client, NEW_AND_RETURNING, params)
    assert overview[("new_customers", None)] == customers["new"]
    assert overview[("returning_customers", None)] == customers["returning"]


@given(
    start=MOMENTS,
    length=st.sampled_from([timedelta(minutes=20), timedelta(hours=5), timedelta(days=9, hours=3)]),
    shift=st.sampled_from([timedelta(hours=-7), timedelta(days=-9, hours=-3), timedelta(days=-1)]),
    store=st.sampled_from([None, "web-uk", frozenset({"web-uk", "marketplace"})]),
)
@example(
    start=END - timedelta(days=20, minutes=30),
    length=timedelta(days=9, hours=3),
    shift=timedelta(days=-1),
    store=None,
)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_periods_read_together_equal_each_read_alone(
    history: History,
    start: datetime,
    length: timedelta,
    shift: timedelta,
    store: str | frozenset[str] | None,
) -> None:
    """The overview reads a period and its comparison period in one pass over each table: the
    same values as reading each alone, also when the periods overlap or touch."""
    history.projector().catch_up()
    one = store if isinstance(store, str) else None
    stores = store if isinstance(store, frozenset) else None
    now = queries.Scope(history.tenant_id, start, start + length, one, stores)
    before = queries.Scope(history.tenant_id, start + shift, start + shift + length, one, stores)
    together = queries.overview_values_of(history.client, [now, before])
    assert together == [
        queries.overview_values(history.client, now),
        queries.overview_values(history.client, before),
    ]
    if length.days and END - timedelta(days=50) <= start <= END - length:
        assert together[0][("orders", None)], "a period of days inside the history has orders"


# Every customer's orders before the end, summed from the lines, less what refunds before the
# end took back of them (joined by order): what the customers report reads from customer_totals
# (and, for customers with later orders or returns, from customer_daily and the refunds).
CUSTOMER_LINES = """
SELECT customer, currency, orders, sold - took_back AS monetary, first_order, last_order
FROM (
    SELECT customer, currency, uniqExact(order_id) AS orders,
        sum(net - cancelled_value) AS sold,
        min(placed_at) AS first_order, max(placed_at) AS last_order
    FROM order_lines FINAL
    WHERE tenant_id = toUUID({tenant:String})
      AND placed_at < fromUnixTimestamp64Micro({end:Int64}, 'UTC')
      AND ({store:String} = '' OR store = {store:String})
      AND ({scoped:UInt8} = 0 OR has({stores:Array(String)}, store))
    GROUP BY customer, currency) AS bought
LEFT JOIN (
    SELECT l.customer AS customer, p.currency AS currency, sum(p.returned) AS took_back
    FROM payments AS p FINAL
    INNER JOIN (SELECT DISTINCT order_id, customer, store FROM order_lines FINAL
                WHERE tenant_id = toUUID({tenant:String})) AS l USING (order_id)
    WHERE p.tenant_id = toUUID({tenant:String}) AND p.kind = 'refund'
      AND p.at < fromUnixTimestamp64Micro({end:Int64}, 'UTC')
      AND ({store:String} = '' OR l.store = {store:String})
      AND ({scoped:UInt8} = 0 OR has({stores:Array(String)}, l.store))
    GROUP BY customer, currency) AS back USING (customer, currency)
SETTINGS join_use_nulls = 0
"""


@pytest.mark.parametrize(
    "end",
    [END + timedelta(days=1), END - timedelta(days=20), END - timedelta(days=9, minutes=5)],
)
@pytest.mark.parametrize("store", [None, "web-uk", frozenset({"web-eu", "marketplace"})])
def test_customers_from_totals_equal_sums_over_the_lines(
    history: History, end: datetime, store: str | frozenset[str] | None
) -> None:
    """Without orders after the period, customers are read from their totals so far; with
    some, all are summed from their days and lines: either way, what the lines before the end
    give (before the period too: it starts inside the history), in every store scope."""
    history.projector().catch_up()
    scope = queries.Scope(
        history.tenant_id, end - timedelta(days=30), end,
        store=store if isinstance(store, str) else None,
        stores=store if isinstance(store, frozenset) else None,
    )  # fmt: skip
    truth = reports.PER_CUSTOMER.replace("{totals}", CUSTOMER_LINES)
    expected = reports.scored_customers(history.client, truth, scope.params() | {"k": 3.0}, 20)
    assert expected["customers"], "customers ordered before every checked end"
    assert reports.customers(history.client, scope, 3.0, 20) == expected


def temporary_tables(session: Any) -> list[str]:
    found = session.query("SELECT name FROM system.tables WHERE is_temporary").result_rows
    return [name for (name,) in found]


def test_past_periods_sum_customers_once_and_leave_no_table_behind(history: History) -> None:
    """A period with later orders sums its customers into a temporary table that both of the
    report's statements read (ADR 0060): reports at the same time, more of them than the
    engine has handles, each find their own sums, and no handle keeps the table afterwards,
    even when a statement in its session fails."""
    history.projector().catch_up()
    client = history.client
    ends = (END - timedelta(days=20), END - timedelta(days=9, minutes=5), END - timedelta(days=40))
    scopes = [queries.Scope(history.tenant_id, end - timedelta(days=60), end) for end in ends]
    alone = [reports.customers(client, scope, 3.0, 5) for scope in scopes]
    assert all(report["customers"] for report in alone)
    assert len({report["customers"] for report in alone}) == len(scopes)

    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(lambda s: reports.customers(client, s, 3.0, 5), scopes * 3))
    assert together == alone * 3

    seen: list[list[str]] = []

    def failing() -> None:
        summed = "SELECT customer FROM order_lines FINAL"
        with queries.materialized(client, "customers_at_end", summed, scopes[0].params()) as s:
            seen.append(temporary_tables(s))
            s.query("SELECT * FROM no_such_table")

    with pytest.raises(Exception, match=r"no_such_table"):
        failing()
    assert seen == [["customers_at_end"]]
    with ExitStack() as stack:  # every handle at once
        sessions = [stack.enter_context(client.session()) for _ in range(HANDLES)]
        assert [temporary_tables(s) for s in sessions] == [[]] * HANDLES


# Each customer's lines less what refunds took back of their orders, joined by order.
NET_OF_RETURNS = """
SELECT customer, currency, sold - returned AS monetary FROM (
    SELECT customer, currency, sum(net - cancelled_value) AS sold FROM order_lines FINAL
    WHERE tenant_id = {t:UUID} GROUP BY customer, currency) AS bought
LEFT JOIN (
    SELECT l.customer AS customer, p.currency AS currency, sum(p.returned) AS returned
    FROM payments AS p FINAL
    INNER JOIN (SELECT DISTINCT order_id, customer FROM order_lines FINAL
                WHERE tenant_id = {t:UUID}) AS l USING (order_id)
    WHERE p.tenant_id = {t:UUID} AND p.kind = 'refund' GROUP BY customer, currency
) AS back USING (customer, currency)
ORDER BY customer, currency
"""


def test_lifetime_value_is_net_of_what_refunds_took_back(history: History) -> None:
    """A customer's lifetime value is their orders' revenue less what refunds took back of
    them (ADR 0059), as net sales are."""
    history.projector().catch_up()
    scope = queries.Scope(history.tenant_id, END - timedelta(days=30), END + timedelta(days=1))
    per_customer = reports.PER_CUSTOMER.replace("{totals}", reports.TOTALS)
    found = history.client.query(
        f"SELECT customer, currency, monetary FROM ({per_customer}) ORDER BY customer, currency",
        parameters=scope.params(),
    ).result_rows
    expected = history.client.query(NET_OF_RETURNS, parameters={"t": history.tenant_id})
    expected = expected.result_rows
    assert found == expected
    (returning,) = history.client.query(
        "SELECT countDistinct(order_id) FROM payments FINAL "
        "WHERE tenant_id = {t:UUID} AND kind = 'refund' AND returned > 0",
        parameters={"t": history.tenant_id},
    ).result_rows[0]
    assert returning > 0, "the history refunds orders against credit notes"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=60))
def test_quintile_cuts_are_the_values_clickhouse_picks(history: History, values: list[int]) -> None:
    """The report scores buckets of customers, so it computes the cuts from counts per value:
    they must be what quantilesExact gives over the customers one by one."""
    (expected,) = history.client.query(
        "SELECT quantilesExact(0.2, 0.4, 0.6, 0.8)(x) "
        "FROM (SELECT arrayJoin({v:Array(Int64)}) AS x)",
        parameters={"v": values},
    ).result_rows[0]
    assert rfm.exact_quantiles(Counter(values)) == expected


@pytest.mark.parametrize("window", [reports.WINDOW, 3])
def test_every_customer_is_scored_and_listed_as_the_rules_say(
    history: History, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report against the rules applied customer by customer: cuts from quantilesExact over
    all customers, scores, segments, the largest customers and those at churn risk (with a
    window of 3, those at risk are mostly found past it)."""
    history.projector().catch_up()
    monkeypatch.setattr(reports, "WINDOW", window)
    k, limit = 1.0, 3
    scope = queries.Scope(history.tenant_id, END - timedelta(days=400), END - timedelta(days=9))
    params = scope.params() | {"k": k}
    per_customer = reports.PER_CUSTOMER.replace("{totals}", CUSTOMER_LINES)
    customers = queries.rows(history.client, per_customer, params)
    cuts = queries.rows(
        history.client,
        "SELECT quantilesExact(0.2, 0.4, 0.6, 0.8)(recency_days) AS r, "
        "quantilesExact(0.2, 0.4, 0.6, 0.8)(orders) AS f, "
        f"quantilesExact(0.2, 0.4, 0.6, 0.8)(monetary) AS m FROM ({per_customer})",
        params,
    )[0]
    segments: dict[tuple[str, str], list[Any]] = {}
    listed = []
    for c in customers:
        r = 1 + sum(c["recency_days"] < cut for cut in cuts["r"])
        f = 1 + sum(c["orders"] > cut for cut in cuts["f"])
        m = 1 + sum(c["monetary"] > cut for cut in cuts["m"])
        churn = c["orders"] > 1 and c["recency_days"] > k * max(c["usual_interval_days"] or 0, 1)
        segment = rfm.segment(r, f, c["orders"])
        found = segments.setdefault((segment, c["currency"]), [0, Decimal(0)])
        found[0] += 1
        found[1] += c["monetary"]
        listed.append((c, r, f, m, segment, churn))
    listed.sort(key=lambda x: (-x[0]["monetary"], x[0]["customer"], x[0]["currency"]))

    report = reports.scored_customers(history.client, per_customer, params, limit)

    assert report["customers"] == len(customers)
    assert report["at_churn_risk"] == sum(1 for *_, churn in listed if churn)
    assert [
        (s["segment"], s["currency"], s["customers"], s["value"]) for s in report["segments"]
    ] == [
        (segment, currency, n, value)
        for (segment, currency), (n, value) in sorted(segments.items())
    ]
    expected = [
        (c["customer"], c["currency"], c["monetary"], r, f, m, segment, churn)
        for c, r, f, m, segment, churn in listed
    ]
    for key, chosen in (
        ("top_customers", expected),
        ("churn_risk", [e for e in expected if e[-1]]),
    ):
        assert [
            (c["customer"], c["currency"], c["lifetime_value"], c["r"], c["f"], c["m"],
             c["segment"], bool(c["churn_risk"]))
            for c in report[key]
        ] == chosen[:limit], key  # fmt: skip
    assert len(report["churn_risk"]) == limit, "the history has customers at risk to list"


def test_a_database_from_before_the_totals_migrates_to_the_same_rows(history: History) -> None:
    """Migrations 4 to 6, 8 and 14 fill customer_totals (with returns), shipping_daily,
    daily_customers and customer_first_orders from the rows an existing database already holds:
    the same rows the projector keeps."""
    history.projector().catch_up()
    selects = {
        "customer_totals": (
            "SELECT tenant_id, store, customer, currency, orders, revenue, returned, first_at, "
            "last_at FROM customer_totals FINAL ORDER BY ALL"
        ),
        "shipping_daily": (
            "SELECT tenant_id, day, store, location, carrier, cost_currency, shipments, "
            "arraySort(ship_seconds), arraySort(deliver_seconds), cost, units, short_units, "
            "uniqExactMerge(orders) FROM shipping_daily FINAL GROUP BY ALL ORDER BY ALL"
        ),
        "daily_customers": (
            "SELECT tenant_id, day, store, uniqExactMerge(customers) "
            "FROM daily_customers FINAL GROUP BY ALL ORDER BY ALL"
        ),
        "customer_first_orders": (
            "SELECT tenant_id, store, customer, first_at "
            "FROM customer_first_orders FINAL ORDER BY ALL"
        ),
    }
    kept = {table: history.client.query(select).result_rows for table, select in selects.items()}
    assert all(kept.values())
    for table in selects:
        history.client.command(f"DROP TABLE {table}")
    history.client.command("DROP VIEW customer_first_orders_from_days")
    # 14 adds customer_totals' returns, to the table 4 creates again.
    history.client.command("DELETE FROM schema_migrations WHERE version IN (4, 5, 6, 8, 14)")
    assert schema.migrate(history.client) == [4, 5, 6, 8, 14]
    for table, select in selects.items():
        assert history.client.query(select).result_rows == kept[table], table


def small_tenant(history: History, name: str, at: datetime) -> tuple[CommandContext, list[Any]]:
    """A new tenant with a catalog, stock and two seeded orders in the two days around `at`
    (at 7:00 or later); its context and products."""
    tenant = history.container.tenants.create(name).tenant_id
    ctx = CommandContext(tenant_id=tenant, actor="system:test")
    seed_history(history.container, ctx, days=2, orders=2, skus=3, end=at + timedelta(days=1))
    return ctx, list(history.container.catalog.products(tenant, after=None, limit=3))


def place(
    history: History,
    ctx: CommandContext,
    lines: list[RequestedLine],
    at: datetime,
    discount: Discount | None = None,
) -> Order:
    """An order of the web-eu store placed at `at` by the same customer."""
    return history.container.orders.place(
        ctx,
        NewOrder(
            store="web-eu", channel="shopify", external_id=None, currency="EUR",
            customer=Customer("ada@example.com", "Ada"),
            shipping_address=Address(
                name="Ada", line1="1 Main Street", city="Berlin", postal_code="10115",
                country="DE",
            ),
            lines=lines, discount=discount, placed_at=at,
        ),
    ).order.state  # fmt: skip


CANCELLED_AT = datetime(2026, 5, 27, 3, tzinfo=UTC)  # before the seeded orders' hours


@pytest.fixture(scope="module")
def cancellations(history: History) -> tuple[UUID, Decimal]:
    """A tenant whose two orders at CANCELLED_AT, 15 % off 3 units each, were cancelled in
    full and one unit in three; returns it and the revenue the second still brings in."""
    container = history.container
    ctx, (product, *_) = small_tenant(history, "cancellations", CANCELLED_AT)
    price = product.prices["web-eu"].amount
    fifteen_off = Discount(DiscountKind.PERCENTAGE, Decimal(15))
    ids = [
        place(
            history, ctx, [RequestedLine(product.sku, 3, price)],
            CANCELLED_AT + timedelta(minutes=minute), fifteen_off,
        ).id
        for minute in (1, 2)
    ]  # fmt: skip
    container.orders.cancel(ctx, ids[0], reason="changed their mind")  # type: ignore[arg-type]
    container.orders.cancel(ctx, ids[1], reason="one fewer", lines={1: 1})  # type: ignore[arg-type]
    discount = round_to(price * 3 * Decimal("0.15"), "EUR")
    kept = price * 3 - discount - (price - round_to(discount / 3, "EUR"))
    history.projector().catch_up()
    return ctx.tenant_id, kept


def test_discounted_orders_cancelled_count_only_what_stays_ordered(
    history: History, cancellations: tuple[UUID, Decimal]
) -> None:
    """An order cancelled in full adds nothing to net sales; one partly cancelled adds its
    remaining units less their share of the discount (ADR 0056). Before, cancelled units were
    valued at their full price: minus the discount for the first order."""
    tenant, kept = cancellations
    scope = queries.Scope(tenant, CANCELLED_AT, CANCELLED_AT + timedelta(hours=1))
    values = queries.overview_values(history.client, scope)
    assert values[("orders", None)] == 2
    assert values[("discounts", "EUR")] > 0
    assert values[("net_sales", "EUR")] == kept
    ada = history.client.query(  # the seeded customers order later or earlier in the day
        "SELECT orders, revenue FROM customer_totals FINAL WHERE tenant_id = {t:UUID} "
        "AND store = '' AND first_at >= {at:DateTime64(6, 'UTC')} "
        "AND last_at < {at:DateTime64(6, 'UTC')} + INTERVAL 1 HOUR",
        parameters={"t": tenant, "at": CANCELLED_AT},
    ).result_rows
    assert ada == [(2, kept)]


def test_a_database_from_before_cancellations_net_of_discounts_migrates_to_the_same_rows(
    history: History, cancellations: tuple[UUID, Decimal]
) -> None:
    """Migration 9 values existing cancelled lines as the projector does and recomputes the
    rollups and customer totals of their days and customers."""
    history.projector().catch_up()
    selects = {
        table: f"SELECT * EXCEPT version FROM {table} FINAL ORDER BY ALL"
        for table in ("order_lines", "hourly_sales", "daily_sales", "customer_daily")
    } | {"customer_totals": "SELECT * EXCEPT version FROM customer_totals FINAL ORDER BY ALL"}
    kept = {table: history.client.query(select).result_rows for table, select in selects.items()}
    # As a database before migration 9 holds them: cancelled units at their price.
    history.client.command(
        "ALTER TABLE order_lines UPDATE cancelled_value = unit_price * cancelled_quantity "
        "WHERE cancelled_quantity > 0 SETTINGS mutations_sync = 2"
    )
    ((_, _, statements),) = [
        m for m in schema.MIGRATIONS if m[1] == "cancellations_net_of_discounts"
    ]
    for statement in statements[2:]:  # the rollups and totals, as they were computed before
        history.client.command(statement)
    assert history.client.query(selects["hourly_sales"]).result_rows != kept["hourly_sales"]
    history.client.command("DELETE FROM schema_migrations WHERE version = 9")
    assert schema.migrate(history.client) == [9]
    for table, select in selects.items():
        assert history.client.query(select).result_rows == kept[table], table


EDITED_AT = datetime(2026, 5, 26, 4, tzinfo=UTC)  # before the seeded orders' hours


@pytest.fixture(scope="module")
def edited(history: History) -> tuple[UUID, Order, list[Decimal]]:
    """A tenant whose order at EDITED_AT, 10 % off one unit, was edited before picking: raised
    to three units, and a second product added with 5.00 off its two; every projection caught
    up. Returns the tenant, the edited order and the two products' prices."""
    container = history.container
    ctx, (first, second, _) = small_tenant(history, "edits", EDITED_AT)
    prices = [p.prices["web-eu"].amount for p in (first, second)]
    fixed = Discount(DiscountKind.FIXED, Decimal(5))
    order = place(
        history, ctx, [RequestedLine(first.sku, 1, prices[0])], EDITED_AT,
        Discount(DiscountKind.PERCENTAGE, Decimal(10)),
    )  # fmt: skip
    assert order.id is not None
    edited = container.orders.edit(
        ctx,
        order.id,
        changes=[LineChange(1, 3)],
        added=[RequestedLine(second.sku, 2, prices[1], fixed)],
    ).state
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)
        wait_until_caught_up(container.datastore, timeout=60)
    history.projector().catch_up()
    return ctx.tenant_id, edited, prices


def test_an_edited_order_counts_what_its_edits_added(
    history: History, edited: tuple[UUID, Order, list[Decimal]]
) -> None:
    """Quantities raised and lines added before picking count in the analytics (re-priced as
    one invoice of the edited order) and in the reconciliation they equal (ADR 0057): before,
    both counted the order as it was placed."""
    tenant, order, prices = edited
    container = history.container
    gross = prices[0] * 3 + prices[1] * 2
    period = (EDITED_AT, EDITED_AT + timedelta(hours=1))
    with container.datastore.transaction() as curs:
        (reconciled,) = finance.reconcile(
            curs, tenant, placed_from=period[0], placed_to=period[1], store=None
        ).totals
    assert reconciled.ordered == gross
    scope = queries.Scope(tenant, *period)
    (analysed,) = queries.money_totals(history.client, scope)
    assert Decimal(analysed["ordered"]) == gross
    values = queries.overview_values(history.client, scope)
    assert (values[("gross_sales", "EUR")], values[("units", None)]) == (gross, 5)
    one_invoice = price(
        [
            LineCharge(
                line_no=line.line_no, sku=line.sku, quantity=line.quantity,
                ordered=line.quantity, before=0, unit_price=line.unit_price.amount,
                discount=line.discount,
            )
            for line in order.lines.values()
        ],
        currency="EUR", shipping=Decimal(0), discount=order.discount,
        fixed_discount_left=Decimal(0), tax=TaxPolicy(),
    )  # fmt: skip
    lines = history.client.query(
        "SELECT line_no, quantity, gross, discount FROM order_lines FINAL "
        "WHERE tenant_id = {t:UUID} AND order_id = {o:UUID} ORDER BY line_no",
        parameters={"t": tenant, "o": order.id},
    ).result_rows
    assert lines == [(p.line_no, p.quantity, p.amount, p.discount) for p in one_invoice.lines]
    assert values[("discounts", "EUR")] == one_invoice.discount_total


def test_a_database_from_before_discount_terms_migrates_to_the_same_rows(
    history: History, edited: tuple[UUID, Order, list[Decimal]]
) -> None:
    """Migration 10 takes the discount terms of the lines placed before it from the raw
    OrderPlaced and OrderLinesEdited events: the terms the projector keeps (the edited order's
    added line among them)."""
    assert_migrations_restore(
        history, "order_lines", "line_discount_terms = '', order_discount_terms = ''", [10]
    )


def assert_migrations_restore(
    history: History, table: str, set_back: str, versions: list[int]
) -> None:
    """Sets `table` back as a database before `versions` held it (`set_back`: an UPDATE's
    assignments) and runs those migrations again: they restore the rows the projector keeps."""
    history.projector().catch_up()
    select = f"SELECT * FROM {table} FINAL ORDER BY ALL"
    kept = history.client.query(select).result_rows
    history.client.command(
        f"ALTER TABLE {table} UPDATE {set_back} WHERE 1 SETTINGS mutations_sync = 2"
    )
    assert history.client.query(select).result_rows != kept
    listed = ", ".join(map(str, versions))
    history.client.command(f"DELETE FROM schema_migrations WHERE version IN ({listed})")
    assert schema.migrate(history.client) == versions
    assert history.client.query(select).result_rows == kept


OVERPAID_AT = datetime(2026, 5, 25, 5, tzinfo=UTC)  # the seeded orders come from 7:00 on


def shipped_and_invoiced(
    history: History, ctx: CommandContext, sku: str, at: datetime
) -> tuple[UUID, Any]:
    """An order of one unit of `sku` placed at `at`, shipped 20 minutes later and invoiced
    then: its id and its invoice."""
    container = history.container
    order = place(history, ctx, [RequestedLine(sku, 1, Decimal("25.00"))], at)
    assert order.id is not None
    shipment, shipped_at = uuid4(), at + timedelta(minutes=20)
    lines = [ShipmentLine(1, sku, 1)]
    container.store.append(
        [
            Append(
                shipment,
                0,
                [
                    ShipmentCreated(
                        shipment_id=shipment, order_id=order.id, store="web-eu",
                        location="BER-1", lines=lines, created_at=shipped_at,
                    ),
                    ShipmentShipped(
                        shipment_id=shipment, order_id=order.id, store="web-eu",
                        location="BER-1", lines=lines, shipped_at=shipped_at,
                    ),
                ],
            )
        ],
        ctx.metadata(shipped_at),
    )  # fmt: skip
    invoice = container.invoices.issue(
        ctx, order.id, shipment_id=shipment, quantities={1: 1}, now=shipped_at
    ).state.document
    return order.id, invoice


@pytest.fixture(scope="module")
def overpaid(history: History) -> tuple[UUID, UUID, Decimal]:
    """A tenant whose order at OVERPAID_AT shipped and was invoiced, paid 10.00 beyond the
    invoice and refunded those 10.00. Returns the tenant, the invoice and its total."""
    container = history.container
    ctx, (product, *_) = small_tenant(history, "overpaid", OVERPAID_AT)
    order_id, invoice = shipped_and_invoiced(history, ctx, product.sku, OVERPAID_AT)
    at = OVERPAID_AT + timedelta(minutes=20)
    container.invoices.record_payment(
        ctx,
        NewPayment(
            invoice_id=invoice.invoice_id, amount=Money.of(invoice.total.amount + 10, "EUR"),
            method="card", gateway="stripe", gateway_reference="pi_overpaid", received_at=at,
        ),
    )  # fmt: skip
    container.invoices.refund(
        ctx, order_id, reason="paid twice", amount=Decimal(10), gateway="stripe",
        gateway_reference="re_overpaid", now=at + timedelta(minutes=20),
    )  # fmt: skip
    history.projector().catch_up()
    return ctx.tenant_id, invoice.invoice_id, invoice.total.amount


def test_an_overpayment_given_back_is_refunded_and_credits_nothing(
    history: History, overpaid: tuple[UUID, UUID, Decimal]
) -> None:
    """Paid beyond the invoice and given back: the invoice's row says refunded, as the invoice
    itself does, so its balance is settled (ADR 0058). Before, the refund was left out and
    the row showed 10.00 overpaid."""
    tenant, invoice_id, total = overpaid
    state = history.container.invoices.get(tenant, invoice_id).state
    row = history.client.query(
        "SELECT paid, credited, refunded, total - credited - paid + refunded AS balance "
        "FROM invoices FINAL WHERE tenant_id = {t:UUID} AND invoice_id = {i:UUID}",
        parameters={"t": tenant, "i": invoice_id},
    ).result_rows
    assert row == [(total + 10, 0, 10, 0)]
    assert (state.paid, state.credited, state.refunded, state.balance) == row[0]


def test_money_given_back_that_was_never_a_sale_leaves_net_sales_alone(
    history: History, overpaid: tuple[UUID, UUID, Decimal]
) -> None:
    """The 10.00 refunded were paid beyond the invoice: a refund, not a return, so net sales
    stay what the order was sold for (ADR 0059). Before, net sales fell by the 10.00."""
    scope = queries.Scope(overpaid[0], OVERPAID_AT, OVERPAID_AT + timedelta(hours=1))
    values = queries.overview_values(history.client, scope)
    assert (values[("refunds", "EUR")], values[("returns", "EUR")]) == (10, 0)
    assert values[("net_sales", "EUR")] == values[("gross_sales", "EUR")] > 0


def test_a_refund_in_a_later_batch_lowers_its_customers_totals(history: History) -> None:
    """A refund that takes back a sale, folded in a batch of its own long after the order's,
    recomputes its customer's totals: lifetime value drops by what it returned (ADR 0059)."""
    ctx, (product, *_) = small_tenant(history, "returned later", OVERPAID_AT)
    order_id, invoice = shipped_and_invoiced(history, ctx, product.sku, OVERPAID_AT)
    history.container.invoices.record_payment(
        ctx,
        NewPayment(
            invoice_id=invoice.invoice_id, amount=invoice.total, method="card",
            gateway="stripe", gateway_reference="pi_later", received_at=OVERPAID_AT,
        ),
    )  # fmt: skip
    history.projector().catch_up()
    select = (
        "SELECT store, revenue, returned FROM customer_totals FINAL "
        "WHERE tenant_id = {t:UUID} AND first_at = {at:DateTime64(6, 'UTC')} ORDER BY store"
    )
    params = {"t": ctx.tenant_id, "at": OVERPAID_AT}
    before = history.client.query(select, parameters=params).result_rows
    assert [returned for _, _, returned in before] == [0, 0]  # over all stores, and web-eu's
    history.container.invoices.refund(
        ctx, order_id, reason="broken", amount=invoice.total.amount, gateway="stripe",
        gateway_reference="re_later", now=OVERPAID_AT + timedelta(days=3),
    )  # fmt: skip
    assert history.projector().catch_up() > 0
    after = history.client.query(select, parameters=params).result_rows
    # The whole invoice went back; of it, the goods count (not the 19 % tax on them).
    goods = invoice.subtotal.amount - invoice.discount_total.amount
    assert goods < invoice.total.amount
    assert after == [(store, revenue, goods) for store, revenue, _ in before]


def test_a_database_from_before_returns_migrates_to_the_same_rows(
    history: History, overpaid: tuple[UUID, UUID, Decimal]
) -> None:
    """Migrations 12, 13 and 15 take what each refund returned from its credit notes' shares in
    the raw events (the goods in them), and its customer and store from its order: the rows the
    projector keeps (here refunds by line, with credit notes, and the overpayment given back,
    without)."""
    # 12 rewrites the rows it fixes with the columns payments had then; 13 adds the customer;
    # 15 counts the goods of what came back.
    assert_migrations_restore(
        history, "payments", "returned = 0, customer = '', store = ''", [12, 13, 15]
    )


def test_a_database_from_before_overpayment_refunds_migrates_to_the_same_rows(
    history: History, overpaid: tuple[UUID, UUID, Decimal]
) -> None:
    """Migration 11 recomputes what invoices with overpayments given back refunded, from the
    raw events: the rows the projector keeps; run twice, it sets the same amounts."""
    history.projector().catch_up()
    select = "SELECT * FROM invoices FINAL ORDER BY ALL"
    kept = history.client.query(select).result_rows
    history.client.command(  # as the projector left it before: the refund not counted
        "ALTER TABLE invoices UPDATE refunded = refunded - 10 WHERE invoice_id = {i:UUID} "
        "SETTINGS mutations_sync = 2",
        parameters={"i": overpaid[1]},
    )
    assert history.client.query(select).result_rows != kept
    for _ in range(2):
        history.client.command("DELETE FROM schema_migrations WHERE version = 11")
        assert schema.migrate(history.client) == [11]
        assert history.client.query(select).result_rows == kept


# Fulfilment straight from the shipments, as it was read before shipping_daily (ADR 0048).
SHIPPING_FROM_SHIPMENTS = f"""
SELECT location, if(carrier = '', 'unassigned', carrier) AS carrier, count() AS shipments,
    round(quantileExact(0.5)(dateDiff('second', order_placed_at, shipped_at)) / 3600, 1)
        AS hours_to_ship_p50,
    round(quantileExact(0.9)(dateDiff('second', order_placed_at, shipped_at)) / 3600, 1)
        AS hours_to_ship_p90,
    round(quantileExactIf(0.5)(dateDiff('second', shipped_at, delivered_at),
        delivered_at IS NOT NULL) / 3600, 1) AS hours_to_deliver_p50,
    round(quantileExactIf(0.9)(dateDiff('second', shipped_at, delivered_at),
        delivered_at IS NOT NULL) / 3600, 1) AS hours_to_deliver_p90,
    round(countIf(dateDiff('second', order_placed_at, shipped_at) <= {{sla:UInt32}} * 3600)
        / count(), 4) AS on_time_rate,
    round(sum(cost) / uniqExact(order_id), 2) AS shipping_cost_per_order,
    cost_currency,
    round(sum(short_units) / greatest(sum(units) + sum(short_units), 1), 4) AS short_pick_rate
FROM shipments FINAL
WHERE {queries.TENANT} AND {queries.STORE} AND shipped_at IS NOT NULL
  AND {queries.between("shipped_at")}
GROUP BY location, carrier, cost_currency ORDER BY location, carrier, cost_currency
"""
SHIPPED_FROM_SHIPMENTS = f"""
SELECT uniqExact(order_id) AS orders FROM shipments FINAL
WHERE {queries.TENANT} AND {queries.STORE} AND shipped_at IS NOT NULL
  AND {queries.between("shipped_at")}
"""


@given(
    start=MOMENTS,
    length=st.sampled_from([timedelta(hours=5), timedelta(days=1), timedelta(days=12, hours=3)]),
    store=st.sampled_from([None, "web-uk"]),
    sla=st.sampled_from([4, 24, 48]),
)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fulfilment_from_shipping_daily_equals_the_shipments(
    history: History, start: datetime, length: timedelta, store: str | None, sla: int
) -> None:
    """Whole days from shipping_daily, partial ones from the shipments: the same times,
    percentiles, rates and order counts as reading every shipment of the period."""
    scope = queries.Scope(history.tenant_id, start, start + length, store)
    params = scope.params() | {"sla": sla}
    found = reports.fulfilment(history.client, scope, sla)
    assert found["by_location_and_carrier"] == queries.rows(
        history.client, SHIPPING_FROM_SHIPMENTS, params
    )
    expected = queries.rows(history.client, SHIPPED_FROM_SHIPMENTS, params)[0]["orders"]
    assert found["orders_shipped"] == expected


def test_shipping_daily_holds_every_shipped_shipment_once(history: History) -> None:
    history.projector().catch_up()
    (rollup,) = history.client.query(
        "SELECT sum(shipments), sum(length(deliver_seconds)), sum(cost) "
        "FROM shipping_daily FINAL WHERE tenant_id = {t:UUID}",
        parameters={"t": history.tenant_id},
    ).result_rows
    (shipments,) = history.client.query(
        "SELECT count(), countIf(delivered_at IS NOT NULL), sum(cost) FROM shipments FINAL "
        "WHERE tenant_id = {t:UUID} AND shipped_at IS NOT NULL",
        parameters={"t": history.tenant_id},
    ).result_rows
    assert rollup == shipments
    assert rollup[0] > 0


def test_a_restarted_projector_loads_thousands_of_orders_it_does_not_hold(
    history: History,
) -> None:
    """After a restart the fold cache is empty: a batch of shipments and invoices for a busy
    day's orders reads every one of their groups from ClickHouse (thousands of keys)."""
    history.projector().catch_up()
    placed = history.client.query(
        "SELECT DISTINCT order_id FROM order_lines FINAL WHERE tenant_id = {t:UUID}",
        parameters={"t": history.tenant_id},
    ).result_rows
    known = {group_key(history.tenant_id, order_id) for (order_id,) in placed}
    unknown = {group_key(history.tenant_id, uuid4()) for _ in range(6_000)}
    fold = Facts().order_lines
    fold.load(history.client, [*unknown, *known])
    assert {group for group in known | unknown if fold.get(group)} == known


@pytest.mark.parametrize("crashed_after", [0, 3, 4])
def test_order_lines_move_to_time_order_with_every_line_kept(
    history: History, crashed_after: int
) -> None:
    """Migration 7 re-sorts order_lines by placed_at (ADR 0050): every line survives it, also
    when an earlier run of it died after any statement (here: after the copy, after the
    exchange)."""
    history.projector().catch_up()
    select = "SELECT * FROM order_lines FINAL ORDER BY ALL"
    kept = history.client.query(select).result_rows
    assert kept
    ((version, _, statements),) = [
        m for m in schema.MIGRATIONS if m[1] == "order_lines_in_time_order"
    ]
    for statement in statements[:crashed_after]:
        history.client.command(statement)
    history.client.command(f"DELETE FROM schema_migrations WHERE version = {version}")
    assert schema.migrate(history.client) == [version]
    assert history.client.query(select).result_rows == kept
    (key,) = history.client.query(
        "SELECT sorting_key FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'order_lines'"
    ).result_rows[0]
    assert key == "tenant_id, placed_at, order_id, line_no"
    assert history.client.query("EXISTS TABLE order_lines_rekeyed").result_rows == [(0,)]


def test_processes_that_migrate_at_once_take_turns(history: History) -> None:
    """The API and the worker both migrate when they start: migration 7, run by several at
    once, is still applied once and keeps every line."""
    history.projector().catch_up()
    select = "SELECT * FROM order_lines FINAL ORDER BY ALL"
    kept = history.client.query(select).result_rows
    history.client.command("DELETE FROM schema_migrations WHERE version = 7")
    starting = [AnalyticsProjector(history.container.datastore, history.client) for _ in range(3)]
    with ThreadPoolExecutor(len(starting)) as pool:
        applied = list(pool.map(AnalyticsProjector.migrate, starting))
    assert sorted(applied) == [[], [], [7]]
    assert history.client.query(select).result_rows == kept
    assert history.client.query("EXISTS TABLE order_lines_rekeyed").result_rows == [(0,)]


def test_the_customers_report_gives_the_same_answer_every_time(history: History) -> None:
    """Quintile cuts are exact: with more customers than a sampling reservoir holds (8,192),
    sampled cuts moved with every request and so did the segments."""
    history.projector()  # the schema
    tenant = uuid4()
    rng = random.Random(6)
    rows = []
    for n in range(20_000):
        first = END - timedelta(days=rng.randrange(30, 720), seconds=rng.randrange(86_400))
        last = first + timedelta(days=rng.randrange(0, 30))
        orders = 1 if last == first else rng.randrange(2, 12)
        revenue = Decimal(rng.randrange(1_000, 500_000)) / 100
        rows.append((tenant, "", f"customer-{n}", "EUR", orders, revenue, first, last, 1))
    for part in range(0, len(rows), 2_500):  # parts that the engine reads in parallel
        batch = rows[part : part + 2_500]
        history.client.insert("customer_totals", batch, column_names=CUSTOMER_TOTALS_COLUMNS)
    scope = queries.Scope(tenant, END - timedelta(days=365), END)
    first = reports.customers(history.client, scope, churn_k=3, limit=10)
    assert first["customers"] == 20_000
    for _ in range(3):
        assert reports.customers(history.client, scope, churn_k=3, limit=10) == first


CUSTOMER_TOTALS_COLUMNS = [
    "tenant_id", "store", "customer", "currency", "orders", "revenue", "first_at", "last_at",
    "version",
]  # fmt: skip


def test_shipping_costs_in_two_currencies_are_never_added_up(history: History) -> None:
    """One location and carrier, billed in EUR for one shipment and GBP for another: a row per
    currency, each with its own cost per order."""
    history.projector()  # the schema
    tenant = uuid4()
    placed = END - timedelta(days=3)
    shipments = [
        (tenant, uuid4(), uuid4(), "web-eu", "BER-1", "DHL", "paket", Decimal("10.00"), "EUR",
         900, 1, 0, Decimal("30.00"), placed, placed, placed + timedelta(hours=5), None, 1),
        (tenant, uuid4(), uuid4(), "web-uk", "BER-1", "DHL", "paket", Decimal("8.00"), "GBP",
         900, 1, 0, Decimal("25.00"), placed, placed, placed + timedelta(hours=30), None, 2),
    ]  # fmt: skip
    history.client.insert("shipments", shipments, column_names=SHIPMENT_COLUMNS)
    history.client.command(recompute_shipping_daily(f"tenant_id = '{tenant}'"))
    for start in (END - timedelta(days=10), END - timedelta(days=10, hours=5)):  # rollup, edges
        scope = queries.Scope(tenant, start, END)
        found = reports.fulfilment(history.client, scope, sla_hours=24)
        rows = [
            (r["carrier"], r["cost_currency"], r["shipping_cost_per_order"], r["on_time_rate"])
            for r in found["by_location_and_carrier"]
        ]
        assert rows == [("DHL", "EUR", Decimal("10.00"), 1.0), ("DHL", "GBP", Decimal("8.00"), 0.0)]
        assert found["orders_shipped"] == 2


def test_the_fold_cache_holds_rows_the_cycle_collector_does_not_walk(history: History) -> None:
    """The cache lives in the API worker with chdb: groups of rows of untracked values only (ids
    as strings), which a collection untracks, so a full collection there does not walk the
    cache (ADR 0052). Rows read back from ClickHouse after a restart are held the same way."""
    projector = history.projector()
    projector.reset()  # from zero: every group passes through the cache
    projector.catch_up()
    restarted = history.projector()
    orders = history.client.query(
        "SELECT DISTINCT tenant_id, order_id FROM order_lines FINAL"
    ).result_rows
    restarted.facts.order_lines.load(history.client, [group_key(t, o) for t, o in orders])
    # A collection untracks a tuple whose items are untracked; a group it meets before its rows
    # (they may sit in an older generation) goes at the next one.
    gc.collect()
    gc.collect()
    for cache in (projector, restarted):
        groups = [group for fold in cache.facts.folds for group in fold._committed.values()]
        assert [row for group in groups for row in group]
        assert not [group for group in groups if gc.is_tracked(group)]
