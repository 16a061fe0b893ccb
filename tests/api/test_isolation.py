"""Tenant isolation in depth: row-level security on every read model, and another tenant's
stream id is a 404 on every detail route."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from adapters.postgres.isolation import READER_ROLE, tenant_reads
from projections.runner import PROJECTIONS
from tests.api.conftest import Tenant, assert_problem
from tests.api.test_money import configured, invoice_all
from tests.api.test_shipments import order_at_berlin, pick_all, shipment

READ_MODELS = sorted(
    {table for _, view in PROJECTIONS.values() for table in view.tables}
    | {"payout_lines", "payout_imports"}
)


@pytest.fixture
def two_busy_tenants(seeded: Tenant, other: Tenant, caught_up: Any) -> tuple[Tenant, Tenant]:
    """Both tenants have orders, stock, a shipment and audit rows in the read models."""
    other.seed()
    for tenant in (seeded, other):
        sent = shipment(tenant, order_at_berlin(tenant))
        pick_all(tenant, sent)
    caught_up()
    return seeded, other


def test_every_read_model_has_row_level_security(seeded: Tenant) -> None:
    with seeded.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT c.relname, c.relrowsecurity, count(p.policyname) AS policies "
            "FROM pg_class c LEFT JOIN pg_policies p ON p.tablename = c.relname "
            "AND p.schemaname = 'public' AND %s = ANY(p.roles) "
            "WHERE c.relname = ANY(%s) AND c.relnamespace = 'public'::regnamespace "
            "GROUP BY c.relname, c.relrowsecurity ORDER BY c.relname",
            (READER_ROLE, READ_MODELS),
        )
        rows = curs.fetchall()
    assert [(r["relname"], r["relrowsecurity"], r["policies"]) for r in rows] == [
        (table, True, 1) for table in READ_MODELS
    ]


def test_a_query_that_forgets_its_tenant_filter_still_sees_one_tenant(
    two_busy_tenants: tuple[Tenant, Tenant],
) -> None:
    mine, theirs = two_busy_tenants
    with mine.container.datastore.transaction() as curs:  # the owner (projectors) sees both
        curs.execute(
            "SELECT DISTINCT tenant_id FROM orders_view WHERE tenant_id = ANY(%s)",
            ([mine.tenant_id, theirs.tenant_id],),
        )
        assert len(curs.fetchall()) == 2
    with tenant_reads(mine.container.datastore, mine.tenant_id) as curs:
        for table in READ_MODELS:
            curs.execute(f"SELECT DISTINCT tenant_id FROM {table}")  # no WHERE: deliberately
            assert {row["tenant_id"] for row in curs.fetchall()} <= {mine.tenant_id}, table
        curs.execute("SELECT count(*) AS n FROM orders_view")
        assert curs.fetchone()["n"] == 1


def test_without_a_tenant_the_reader_sees_no_rows(two_busy_tenants: tuple[Tenant, Tenant]) -> None:
    mine, _ = two_busy_tenants
    with mine.container.datastore.transaction() as curs:
        curs.execute(f"SET LOCAL ROLE {READER_ROLE}")
        for table in READ_MODELS:
            curs.execute(f"SELECT count(*) AS n FROM {table}")
            assert curs.fetchone()["n"] == 0, table


def test_the_reader_can_neither_write_nor_leave_its_tenant(seeded: Tenant) -> None:
    store = seeded.container.datastore
    with (
        pytest.raises(Exception, match="permission denied"),
        tenant_reads(store, seeded.tenant_id) as curs,
    ):
        curs.execute("DELETE FROM orders_view")
    with (
        pytest.raises(Exception, match="permission denied"),
        tenant_reads(store, seeded.tenant_id) as curs,
    ):
        curs.execute("SELECT secret FROM webhook_secrets")


def test_another_tenants_ids_are_404_on_every_detail_route(tenant: Tenant, other: Tenant) -> None:
    seeded = configured(tenant)
    order = order_at_berlin(seeded)
    sent = shipment(seeded, order)
    pick_all(seeded, sent)
    seeded.ok(f"/v1/shipments/{sent['id']}/pack", {}, 200)
    seeded.ok(f"/v1/shipments/{sent['id']}/ship", None, 200)
    line = {"sku": "MUG", "quantity": 1, "reason": "defective"}
    returned = seeded.ok(f"/v1/orders/{order['id']}/returns", {"lines": [line]})
    invoice_all(seeded)
    [invoice] = seeded.container.invoices.of_order(seeded.tenant_id, UUID(order["id"]))
    invoice_id = invoice.state.document.invoice_id
    paths = [
        f"/v1/orders/{order['id']}",
        f"/v1/orders/{order['id']}/billing",
        f"/v1/shipments/{sent['id']}",
        f"/v1/shipments/{sent['id']}/packing",
        f"/v1/shipments/{sent['id']}/rates",
        f"/v1/returns/{returned['id']}",
        f"/v1/invoices/{invoice_id}",
        f"/v1/audit/order/{order['id']}/events",
        f"/v1/audit/order/{order['id']}/state",
        f"/v1/audit/shipment/{sent['id']}/events",
        f"/v1/audit/invoice/{invoice_id}/state",
    ]
    for path in paths:
        assert seeded.get(path).status_code == 200, path
        assert_problem(other.get(path), 404)
