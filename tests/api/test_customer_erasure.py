"""GDPR over the REST API: a customer's data export, and crypto-shredding that erases their
personal data from every event, read model, analytics table and export while totals, history
and the audit hash chain stay exactly as they were (ADR 0035)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.shared.personal import ERASED
from projections.relay import SELECT_PAGE, message
from tests.api.conftest import Tenant, assert_problem, order_body
from tests.api.test_analytics import project
from tests.api.test_fulfilment_flow import ship_everything
from tests.api.test_money import configured, invoice_all

MUG = {"sku": "MUG", "unit_price": "9.90"}


class Person:
    def __init__(self, first: str) -> None:
        tag = uuid4().hex[:8]
        self.email = f"{first.lower()}.{tag}@example.com"
        self.name = f"{first} Testperson{tag}"
        self.line1 = f"{tag} Erasure Lane"
        self.city = f"Shredtown{tag}"
        self.postal_code = f"P{tag}"

    @property
    def plaintext(self) -> list[str]:
        return [self.email, self.name, self.line1, self.city, self.postal_code]

    def order(self, **changes: Any) -> dict[str, Any]:
        address = {
            "name": self.name, "line1": self.line1, "city": self.city,
            "postal_code": self.postal_code, "country": "DE",
        }  # fmt: skip
        return order_body(email=self.email, name=self.name, shipping_address=address, **changes)


def place(tenant: Tenant, person: Person, quantity: int = 1) -> dict[str, Any]:
    response = tenant.post("/v1/orders", person.order(lines=[MUG | {"quantity": quantity}]))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def read_model_text(tenant: Tenant) -> str:
    """Every row of every Kontor table but the event store, as text (bytea columns such as the
    views' folded states with their printable bytes as they are)."""
    with tenant.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "AND c.table_name <> 'kontor_events' ORDER BY c.table_name, c.ordinal_position"
        )
        columns: dict[str, list[str]] = {}
        for row in curs.fetchall():
            name = f'"{row["column_name"]}"'
            bytea = row["data_type"] == "bytea"
            as_text = f"encode({name}, 'escape')" if bytea else f"{name}::text"
            columns.setdefault(row["table_name"], []).append(as_text)
        dump = []
        for table, parts in columns.items():
            curs.execute(f"SELECT concat_ws('|', {', '.join(parts)}) AS row FROM {table}")  # type: ignore[arg-type]
            dump.extend(row["row"] for row in curs.fetchall())
    return "\n".join(dump)


def events_holding(tenant: Tenant, text: str) -> int:
    """Stored events whose bytes contain `text` anywhere."""
    with tenant.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT count(*) AS n FROM kontor_events WHERE position(%s::bytea in state) > 0",
            (text.encode(),),
        )
        return int(curs.fetchone()["n"])


def analytics_text(tenant: Tenant) -> str:
    client = project(tenant.container)
    tables = [row[0] for row in client.query("SHOW TABLES").result_rows]
    return "\n".join(
        repr(row)
        for table in tables
        for row in client.query(f"SELECT {_readable(client, table)} FROM {table}").result_rows
    )


def _readable(client: Any, table: str) -> str:
    """Every column, an aggregate state finalised (the driver cannot decode states)."""
    columns = client.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
        "AND table = {table:String} ORDER BY position",
        {"table": table},
    ).result_rows
    return ", ".join(
        f"finalizeAggregation({name})" if kind.startswith("AggregateFunction") else name
        for name, kind in columns
    )


def figures(tenant: Tenant, orders: list[dict[str, Any]]) -> dict[str, Any]:
    """What must not change when a customer is erased."""
    project(tenant.container)
    today = datetime.now(UTC).date()
    period = {"from": f"{today}T00:00:00Z", "to": f"{today + timedelta(days=1)}T00:00:00Z"}
    overview = tenant.get("/v1/analytics/overview", params=period | {"compare": "none"}).json()
    reconciliation = tenant.get("/v1/reconciliation").json()
    return {
        "orders": [tenant.get(f"/v1/orders/{o['id']}").json()["totals"] for o in orders],
        "analytics": {(m["metric"], m["currency"]): m["value"] for m in overview["metrics"]},
        "reconciliation": reconciliation["totals"],
        "invoices": [(i["number"], i["total"]) for i in tenant.get("/v1/invoices").json()["items"]],
    }


def test_erasing_a_customer_leaves_no_personal_data_and_every_total_intact(
    tenant: Tenant, caught_up: Any
) -> None:
    configured(tenant)
    ada, grace = Person("Ada"), Person("Grace")
    shipped = place(tenant, ada, 2)
    ship_everything(tenant, shipped["id"], "BER", carrier="UPS", service="standard")
    invoice_all(tenant)
    ada_orders = [shipped, place(tenant, ada, 1)]
    grace_order = place(tenant, grace, 3)
    ada_id = ada_orders[0]["customer_id"]
    assert ada_orders[1]["customer_id"] == ada_id != grace_order["customer_id"]
    caught_up()
    before = figures(tenant, [*ada_orders, grace_order])

    # The event store never held anyone's personal data in plaintext, not even before erasure.
    for text in ada.plaintext + grace.plaintext:
        assert events_holding(tenant, text) == 0, text

    export = tenant.get(f"/v1/customers/{ada_id}/export").json()
    assert export["profile"]["customers"] == [{"email": ada.email, "name": ada.name}]
    assert [o["id"] for o in export["orders"]] == [o["id"] for o in ada_orders]
    assert len(export["shipments"]) == 1
    assert len(export["invoices"]) == 1
    assert ada.email in str(export["events"])
    assert grace.email not in str(export)
    assert tenant.get("/v1/customers", params={"email": ada.email.upper()}).json()["id"] == ada_id
    assert ada.email in read_model_text(tenant)
    analytics = analytics_text(tenant)
    assert ada_id in analytics
    assert ada.email not in analytics

    erased = tenant.post(f"/v1/customers/{ada_id}/erase")
    assert erased.status_code == 200, erased.text
    again = tenant.post(f"/v1/customers/{ada_id}/erase")
    assert again.json() == erased.json()
    assert erased.json()["erased_at"]
    caught_up()

    # Nothing queryable holds Ada's personal data any more ...
    text = read_model_text(tenant)
    analytics = analytics_text(tenant)
    export = tenant.get(f"/v1/customers/{ada_id}/export")
    history = [
        tenant.get(f"/v1/audit/order/{o['id']}/events").text
        + tenant.get(f"/v1/audit/order/{o['id']}/state").text
        + tenant.get(f"/v1/orders/{o['id']}").text
        for o in ada_orders
    ]
    invoices_csv = tenant.get("/v1/exports/invoices").text
    orders_list = tenant.get("/v1/orders", params={"limit": 50}).text
    with tenant.container.datastore.transaction() as curs:
        curs.execute(SELECT_PAGE, (0, 1_000_000))
        relayed = [message("kontor", row) for row in curs.fetchall()]
    relayed_text = "\n".join(m.payload.decode() for m in relayed)
    for value in ada.plaintext:
        for where, haystack in (
            ("read models", text), ("analytics", analytics), ("export", export.text),
            ("history", "".join(history)), ("invoices csv", invoices_csv),
            ("orders list", orders_list), ("relay", relayed_text),
        ):  # fmt: skip
            assert value not in haystack, f"{value!r} still in {where}"
        assert events_holding(tenant, value) == 0
    body = export.json()
    assert body["erased_at"] == erased.json()["erased_at"]
    assert body["profile"]["customers"] == [{"email": ERASED, "name": ERASED}]
    assert body["profile"]["addresses"][0]["line1"] == ERASED
    assert body["profile"]["addresses"][0]["country"] == "DE"
    assert [o["id"] for o in body["orders"]] == [o["id"] for o in ada_orders]
    assert body["invoices"][0]["customer_name"] == ERASED
    assert ERASED in history[0]
    erasures = [e for e in body["events"] if e["type"] == "customer.CustomerErased"]
    assert len(erasures) == 1
    assert ada.email not in str(erasures)
    label = tenant.get(f"/v1/shipments/{body['shipments'][0]['id']}/label")
    assert_problem(label, 410, "label_erased")
    assert_problem(tenant.get("/v1/customers", params={"email": ada.email}), 404)

    # ... Grace is untouched, every figure is as it was, and the hash chains still verify.
    for value in grace.plaintext:
        assert value in text
        assert value in relayed_text
    assert tenant.get(f"/v1/orders/{grace_order['id']}").json()["customer"]["email"] == grace.email
    assert figures(tenant, [*ada_orders, grace_order]) == before
    verified = tenant.get("/v1/audit/verify").json()
    assert verified["ok"] is True, verified


def test_export_and_erase_are_404_beyond_the_callers_tenant_and_stores(
    seeded: Tenant, other: Tenant, caught_up: Any
) -> None:
    wholesale = place(seeded, Person("Linus"), 1)
    b2b_body = Person("Barbara").order(store="b2b", lines=[MUG | {"quantity": 1}])
    b2b = seeded.post("/v1/orders", b2b_body).json()
    caught_up()
    web_only = seeded.with_key("admin", stores={"web"})
    assert web_only.get(f"/v1/customers/{wholesale['customer_id']}/export").status_code == 200
    for caller in (web_only, other):
        customer = b2b["customer_id"]
        assert_problem(caller.get(f"/v1/customers/{customer}/export"), 404, "customer_not_found")
        assert_problem(caller.post(f"/v1/customers/{customer}/erase"), 404, "customer_not_found")
    assert_problem(seeded.get(f"/v1/customers/{uuid4()}/export"), 404, "customer_not_found")
    assert seeded.get(f"/v1/orders/{b2b['id']}").json()["customer"]["name"] != ERASED


@pytest.mark.parametrize("role", ["operations", "finance", "analyst", "auditor", "integrator"])
def test_only_owners_and_admins_export_or_erase_customers(seeded: Tenant, role: str) -> None:
    customer = UUID(place(seeded, Person("Edsger"))["customer_id"])
    caller = seeded.with_key(role)
    assert_problem(caller.get(f"/v1/customers/{customer}/export"), 403, "forbidden")
    assert_problem(caller.post(f"/v1/customers/{customer}/erase"), 403, "forbidden")
