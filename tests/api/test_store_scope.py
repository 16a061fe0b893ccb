"""A caller limited to some stores sees only their orders, shipments, invoices and payments:
lists and exports are filtered, and another store's record is a 404 like another tenant's."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem, order_body
from tests.api.test_money import billed, configured, invoice_all, ship
from tests.api.test_prepayment import prepay
from tests.api.test_sessions import Browser


@pytest.fixture
def two_stores(tenant: Tenant) -> tuple[Tenant, dict[str, Any], dict[str, Any]]:
    """An order in the web store and one in the b2b store, each shipped, invoiced and paid."""
    configured(tenant)
    web = tenant.place(store="web")
    b2b = tenant.place(store="b2b", email="b2b@example.com")
    for order, reference in ((web, "pi_web"), (b2b, "pi_b2b")):
        ship(tenant, order)
        assert prepay(tenant, order, "1.00", reference).status_code == 201
    invoice_all(tenant)
    return tenant, web, b2b


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_lists_show_only_the_scoped_stores(two_stores: Any, caught_up: Any) -> None:
    tenant, web, b2b = two_stores
    caught_up()
    regional = tenant.with_key("finance", stores={"web"})

    assert ids(regional.get("/v1/orders")) == {web["id"]}
    assert ids(tenant.get("/v1/orders")) == {web["id"], b2b["id"]}
    assert {s["code"] for s in regional.get("/v1/stores").json()["items"]} == {"web"}
    web_invoice = billed(tenant, web)[0]["id"]
    assert ids(regional.get("/v1/invoices")) == {web_invoice}
    assert ids(regional.get("/v1/orders", params={"store": "b2b"})) == set()


def test_another_stores_records_are_404s(two_stores: Any) -> None:
    tenant, web, b2b = two_stores
    regional = tenant.with_key("operations", stores={"web"})
    before = tenant.event_count()

    assert regional.get(f"/v1/orders/{web['id']}").status_code == 200
    assert_problem(regional.get(f"/v1/orders/{b2b['id']}"), 404, "order_not_found")
    assert_problem(regional.post(f"/v1/orders/{b2b['id']}/hold", {"reason": "x"}), 404)
    assert_problem(regional.get(f"/v1/orders/{b2b['id']}/billing"), 404, "order_not_found")
    b2b_invoice = billed(tenant, b2b)[0]["id"]
    assert_problem(regional.get(f"/v1/invoices/{b2b_invoice}"), 404, "invoice_not_found")
    assert_problem(regional.post("/v1/orders", order_body(store="b2b")), 404, "unknown_store")
    assert tenant.event_count() == before


def test_exports_hold_only_the_scoped_stores(two_stores: Any, caught_up: Any) -> None:
    tenant, web, _ = two_stores
    caught_up()
    regional = tenant.with_key("analyst", stores={"web"})

    invoices = list(csv.DictReader(io.StringIO(regional.get("/v1/exports/invoices").text)))
    payments = list(csv.DictReader(io.StringIO(regional.get("/v1/exports/payments").text)))

    assert {row["store"] for row in invoices} == {"web"}
    assert {row["order_id"] for row in payments} == {web["id"]}
    everything = list(csv.DictReader(io.StringIO(tenant.get("/v1/exports/payments").text)))
    assert len(everything) == 2


def test_a_scoped_user_session_is_filtered_too(
    two_stores: Any, client: Any, caught_up: Any
) -> None:
    tenant, web, _ = two_stores
    caught_up()
    browser = Browser(client, tenant)
    browser.login(tenant.add_user("operations", stores={"web"}))

    assert ids(browser.get("/v1/orders")) == {web["id"]}
