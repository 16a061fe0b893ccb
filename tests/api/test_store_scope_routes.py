"""Every GET route, read by a key limited to the web store: nothing of the b2b store leaks.

One shop has two stores. `web` is fulfilled from BER; `b2b` from MUC and BER (a shared
warehouse). Each store has an order shipped, delivered, returned, invoiced and paid, and an open
shipment at BER. The b2b store's identifiers (orders, shipments, return, invoices, gateway
references, customer email, its store code and its own location) are canaries: a scoped response
must contain none of them, while the owner's answer to the same request shows at least one, so
every check can fail. Aggregates are compared with the owner's answer filtered to the web store.

The route table must name every GET route of the app: a new route fails until it says how a
store-scoped caller is served.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from application.access import Permission
from interfaces.bootstrap import Container
from interfaces.http.access import EVERY_STORE, permission_of
from projections.runner import wait_until_caught_up
from tests.api.conftest import Tenant, assert_problem, new_tenant, project
from tests.api.test_fulfilment_flow import ship_everything
from tests.api.test_money import configured, invoice_all
from tests.api.test_prepayment import prepay
from tests.api.test_reconciliation import upload

TODAY = datetime.now(UTC).date()
PERIOD = {
    "from": f"{TODAY - timedelta(days=2)}T00:00:00Z",
    "to": f"{TODAY + timedelta(days=2)}T00:00:00Z",
}


@dataclass
class Shop:
    owner: Tenant
    web: Tenant
    """The same tenant through an admin key limited to the web store."""
    mine: dict[str, str]
    canaries: dict[str, str]
    history: Tenant
    """Another tenant with weeks of seeded history in three stores (for forecasts)."""

    def leaks(self, text: str) -> list[str]:
        """The canaries in `text`, as whole tokens: "b2b" inside a random hex request id or
        hash is no leak."""
        return [
            name
            for name, value in self.canaries.items()
            if re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text)
        ]


def _put(tenant: Tenant, path: str, body: Any) -> None:
    response = tenant.client.put(path, json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text


def _sell(owner: Tenant, store: str, region: str, email: str, location: str) -> dict[str, str]:
    """An order shipped from `location`, delivered, with one unit returned; its ids."""
    order = owner.place(store=store, region=region, email=email)
    assert {a["location"] for a in order["lines"][0]["allocations"]} == {location}
    shipped = ship_everything(owner, order["id"], location, carrier="UPS", service="standard")
    owner.ok(f"/v1/shipments/{shipped['id']}/deliver", {}, 200)
    returned = owner.ok(
        f"/v1/orders/{order['id']}/returns",
        {"lines": [{"sku": "MUG", "quantity": 1, "reason": "defective"}]},
    )
    return {"order": order["id"], "shipment": shipped["id"], "return": returned["id"]}


def _open_shipment(owner: Tenant, store: str, email: str) -> dict[str, str]:
    order = owner.place(
        store=store, email=email, lines=[{"sku": "MUG", "quantity": 1, "unit_price": "9.90"}]
    )
    opened = owner.ok(f"/v1/orders/{order['id']}/shipments", {"location": "BER"})
    return {"open_order": order["id"], "open_shipment": opened["id"]}


@pytest.fixture(scope="module")
def shop(client: TestClient[Any], container: Container, runners: None, merchant: Tenant) -> Shop:
    owner = new_tenant(client, container)
    configured(owner)
    _put(owner, "/v1/stores/web/locations", {"locations": ["BER"]})
    _put(owner, "/v1/stores/b2b/locations", {"locations": ["BER", "MUC"]})
    web = _sell(owner, "web", "BE", "ada@example.com", "BER")
    b2b = _sell(owner, "b2b", "BY", "b2b@example.com", "MUC")
    web |= _open_shipment(owner, "web", "ada@example.com")
    b2b |= _open_shipment(owner, "b2b", "b2b@example.com")
    invoice_all(owner)
    for ids, reference in ((web, "pi_web_scope"), (b2b, "pi_b2b_scope")):
        order = owner.get(f"/v1/orders/{ids['order']}").json()
        assert prepay(owner, order, "1.00", reference).status_code == 201
        ids["reference"] = reference
        invoices = owner.container.invoices.of_order(owner.tenant_id, UUID(ids["order"]))
        ids["invoice"] = str(invoices[0].state.document.invoice_id)
        ids["invoice_number"] = invoices[0].state.document.number
    for ids, email in ((web, "ada@example.com"), (b2b, "b2b@example.com")):
        found = owner.get("/v1/customers", params={"email": email})
        assert found.status_code == 200, found.text
        ids["customer"] = found.json()["id"]
    payout = (
        "payment,pi_web_scope,1.00,EUR\npayment,pi_b2b_scope,1.00,EUR\npayment,pi_gone,5.00,EUR\n"
    )
    assert upload(owner, payout, gateway="stripe").status_code == 201
    wait_until_caught_up(container.datastore, timeout=20)
    project(container)
    canaries = {name: str(value) for name, value in b2b.items()}
    canaries |= {"store": "b2b", "location": "MUC", "email": "b2b@example.com", "payout": "pi_gone"}
    return Shop(owner, owner.with_key("admin", stores={"web"}), web, canaries, merchant)


# --- how each kind of route is checked ----------------------------------------------------------


def no_leak(shop: Shop, path: str, **params: Any) -> Any:
    """200 for the scoped key, with no b2b canary; the owner's answer shows some."""
    scoped = shop.web.get(path, params=params)
    assert scoped.status_code == 200, scoped.text
    assert not shop.leaks(scoped.text), f"{path} leaks {shop.leaks(scoped.text)}"
    everything = shop.owner.get(path, params=params)
    assert everything.status_code == 200, everything.text
    assert shop.leaks(everything.text), f"{path}: the owner's answer holds no b2b record"
    return scoped


def hidden(shop: Shop, path: str, **params: Any) -> None:
    """Another store's record is a 404 for the scoped key, and there for the owner."""
    assert shop.web.get(path, params=params).status_code == 404, path
    assert shop.owner.get(path, params=params).status_code == 200, path


def shown(shop: Shop, path: str, **params: Any) -> Any:
    """One of the web store's records: there, and holding no b2b canary."""
    scoped = shop.web.get(path, params=params)
    assert scoped.status_code == 200, scoped.text
    assert not shop.leaks(scoped.text), f"{path} leaks {shop.leaks(scoped.text)}"
    return scoped


def as_if_filtered(shop: Shop, path: str, **params: Any) -> None:
    """An aggregate: the scoped answer is the owner's answer filtered to the web store, and
    differs from the owner's unfiltered one."""
    scoped = shown(shop, path, **params)
    filtered = shop.owner.get(path, params=params | {"store": "web"})
    everything = shop.owner.get(path, params=params)
    assert without_store(scoped) == without_store(filtered), path
    assert without_store(scoped) != without_store(everything), f"{path}: b2b changes nothing"


def without_store(response: Any) -> Any:
    """The body, less the `store` filter it echoes."""
    body = response.json()
    if isinstance(body, dict):
        body.pop("store", None)
    return body


def detail_pair(kind: str, template: str) -> Callable[[Shop], None]:
    def check(shop: Shop) -> None:
        shown(shop, template.format(shop.mine[kind]))
        hidden(shop, template.format(shop.canaries[kind]))

    return check


CHECKS: dict[str, Callable[[Shop], None]] = {
    "/v1/stores": lambda shop: no_leak(shop, "/v1/stores"),
    "/v1/locations": lambda shop: no_leak(shop, "/v1/locations"),
    "/v1/products": lambda shop: no_leak(shop, "/v1/products"),
    "/v1/products/{sku:str}": lambda shop: no_leak(shop, "/v1/products/MUG"),
    "/v1/inventory": lambda shop: no_leak(shop, "/v1/inventory"),
    "/v1/inventory/{sku:str}/movements": lambda shop: no_leak(
        shop, "/v1/inventory/MUG/movements", limit=500
    ),
    "/v1/orders": lambda shop: no_leak(shop, "/v1/orders"),
    "/v1/orders/{order_id:uuid}": detail_pair("order", "/v1/orders/{}"),
    "/v1/orders/{order_id:uuid}/billing": detail_pair("order", "/v1/orders/{}/billing"),
    "/v1/shipments": lambda shop: no_leak(shop, "/v1/shipments"),
    "/v1/shipments/{shipment_id:uuid}": detail_pair("shipment", "/v1/shipments/{}"),
    "/v1/shipments/{shipment_id:uuid}/label": detail_pair("shipment", "/v1/shipments/{}/label"),
    "/v1/shipments/{shipment_id:uuid}/packing": detail_pair(
        "open_shipment", "/v1/shipments/{}/packing"
    ),
    "/v1/shipments/{shipment_id:uuid}/rates": detail_pair("shipment", "/v1/shipments/{}/rates"),
    "/v1/pick-lists": lambda shop: pick_lists(shop),
    "/v1/pick-work": lambda shop: pick_work(shop),
    "/v1/fulfilment-times": lambda shop: as_if_filtered(shop, "/v1/fulfilment-times"),
    "/v1/returns": lambda shop: no_leak(shop, "/v1/returns"),
    "/v1/returns/{return_id:uuid}": detail_pair("return", "/v1/returns/{}"),
    "/v1/returns/reasons": lambda shop: counted(shop, "/v1/returns/reasons"),
    "/v1/settings/boxes": lambda shop: shown(shop, "/v1/settings/boxes"),
    "/v1/settings/carriers": lambda shop: shown(shop, "/v1/settings/carriers"),
    "/v1/invoices": lambda shop: no_leak(shop, "/v1/invoices"),
    "/v1/invoices/{ref:str}": lambda shop: invoices(shop),
    "/v1/billing/stores": lambda shop: billing_stores(shop),
    "/v1/billing/tax-rates": lambda shop: shown(shop, "/v1/billing/tax-rates"),
    "/v1/billing/fx-rates": lambda shop: shown(shop, "/v1/billing/fx-rates"),
    "/v1/billing/tax-exemptions": lambda shop: shown(shop, "/v1/billing/tax-exemptions"),
    "/v1/receivables/ageing": lambda shop: ageing(shop),
    "/v1/exports/{name:str}": lambda shop: exports(shop),
    "/v1/reconciliation": lambda shop: reconciliation(shop),
    "/v1/reconciliation/payouts": lambda shop: payouts(shop),
    "/v1/analytics/overview": lambda shop: as_if_filtered(shop, "/v1/analytics/overview", **PERIOD),
    "/v1/analytics/timeseries": lambda shop: as_if_filtered(
        shop, "/v1/analytics/timeseries", **PERIOD
    ),
    "/v1/analytics/breakdown": lambda shop: as_if_filtered(
        shop, "/v1/analytics/breakdown", by="sku", **PERIOD
    ),
    "/v1/analytics/fulfilment": lambda shop: as_if_filtered(
        shop, "/v1/analytics/fulfilment", **PERIOD
    ),
    "/v1/analytics/customers": lambda shop: analytics_customers(shop),
    "/v1/analytics/forecast": lambda shop: forecast(shop),
    "/v1/analytics/inventory": lambda shop: analytics_inventory(shop),
    "/v1/analytics/anomalies": lambda shop: shown(shop, "/v1/analytics/anomalies"),
    "/v1/customers": lambda shop: customers(shop),
    "/v1/customers/{customer_id:uuid}/export": detail_pair("customer", "/v1/customers/{}/export"),
    "/v1/users": lambda shop: people(shop, "/v1/users", "email"),
    "/v1/api-keys": lambda shop: people(shop, "/v1/api-keys", "name"),
    # the dashboard's pages and fragments
    "/dashboard": lambda shop: page(shop, "/dashboard", "open_order"),
    "/dashboard/home/figures": lambda shop: fragment_as_if_filtered(
        shop, "/dashboard/home/figures"
    ),
    "/dashboard/home/feed": lambda shop: page(shop, "/dashboard/home/feed", "open_order"),
    "/dashboard/home/alerts": lambda shop: home_alerts(shop),
    "/dashboard/orders": lambda shop: page(shop, "/dashboard/orders", "order", "open_order"),
    "/dashboard/orders/rows": lambda shop: page(shop, "/dashboard/orders/rows", "order"),
    "/dashboard/orders/{order_id:uuid}": detail_pair("order", "/dashboard/orders/{}"),
    "/dashboard/inventory": lambda shop: page(shop, "/dashboard/inventory", "location"),
    "/dashboard/inventory/rows": lambda shop: page(shop, "/dashboard/inventory/rows", "location"),
    "/dashboard/fulfilment": lambda shop: fulfilment_page(shop),
    "/dashboard/fulfilment/returns": lambda shop: page(
        shop, "/dashboard/fulfilment/returns", "location"
    ),
    "/dashboard/fulfilment/pick-list": lambda shop: dashboard_pick_list(shop),
    "/dashboard/fulfilment/shipments/{shipment_id:uuid}": detail_pair(
        "shipment", "/dashboard/fulfilment/shipments/{}"
    ),
    "/dashboard/finance": lambda shop: page(shop, "/dashboard/finance", "invoice_number"),
    "/dashboard/finance/invoices/rows": lambda shop: page(
        shop, "/dashboard/finance/invoices/rows", "invoice_number"
    ),
    "/dashboard/analytics": lambda shop: page(shop, "/dashboard/analytics", "store", by="store"),
    "/dashboard/analytics/forecast": lambda shop: dashboard_forecast(shop),
    "/dashboard/settings": lambda shop: page(shop, "/dashboard/settings", "location"),
    "/dashboard/settings/billing": lambda shop: settings_billing(shop),
    "/dashboard/settings/shipping": lambda shop: page(shop, "/dashboard/settings/shipping"),
    "/dashboard/settings/users": lambda shop: dashboard_people(shop, "/dashboard/settings/users"),
    "/dashboard/settings/api-keys": lambda shop: dashboard_people(
        shop, "/dashboard/settings/api-keys"
    ),
    "/dashboard/settings/api-keys/rows": lambda shop: dashboard_people(
        shop, "/dashboard/settings/api-keys/rows"
    ),
}
"""GET routes a store-scoped caller may call, and how each is checked."""

NOT_STORE_DATA = {"/v1/session", "/v1/events/catalog", "/dashboard/store", "/dashboard/live"}
"""Permission.SELF routes: the caller's own session, the schema of the events, the dashboard's
store switcher (it refuses a store out of scope) and its live stream (change notices that make a
page re-fetch, through the routes above, what it shows)."""


# --- dashboard pages: HTML, checked with the same canaries --------------------------------------

SWITCHER = re.compile(r'<form class="store-switcher".*?</form>', re.S)
"""The store switcher lists the owner's stores on every page; the owner's side of a check looks
past it, so that it proves the page itself shows the other store's records."""


def _html(tenant: Tenant, path: str, store: str | None = None, **params: Any) -> str:
    tenant.client.cookies.clear()  # a store picked by an earlier test must not narrow the page
    headers = {"Cookie": f"kontor_store={store}"} if store else None
    response = tenant.get(path, params=params, headers=headers)
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return SWITCHER.sub("", response.text)


def page(shop: Shop, path: str, *shows: str, **params: Any) -> None:
    """The page for the scoped key holds no b2b canary; for the owner it holds each of `shows`."""
    scoped = _html(shop.web, path, **params)
    assert not shop.leaks(scoped), f"{path} leaks {shop.leaks(scoped)}"
    everything = _html(shop.owner, path, **params)
    assert set(shows) <= set(shop.leaks(everything)), (path, shop.leaks(everything))


STORE_PARAM = re.compile(r"&amp;store=[\w-]+")
"""Links (exports) name the picked store; a scoped caller's need not, its scope applies."""


def _same(html: str) -> str:
    return STORE_PARAM.sub("", html)


def fragment_as_if_filtered(shop: Shop, path: str) -> None:
    """An aggregate fragment: for the scoped key, what the owner sees with the web store picked
    in the switcher, and not what the owner sees of every store."""
    scoped = _html(shop.web, path)
    assert _same(scoped) == _same(_html(shop.owner, path, store="web")), path
    assert scoped != _html(shop.owner, path), f"{path}: b2b changes nothing"


def home_alerts(shop: Shop) -> None:
    """Low stock at MUC (the b2b store's own warehouse) is no alert for the web store's admin;
    failed webhooks (tenant-wide) are counted for the owner only."""
    shop.owner.ok(
        "/v1/stock/settings", {"location": "MUC", "sku": "MUG", "reorder_point": 10**6}, 200
    )
    deadline = time.monotonic() + 20
    while "MUC" not in _html(shop.owner, "/dashboard/home/alerts"):  # once projected
        assert time.monotonic() < deadline, "the low stock at MUC never showed"
        time.sleep(0.1)
    page(shop, "/dashboard/home/alerts", "location")


def fulfilment_page(shop: Shop) -> None:
    page(shop, "/dashboard/fulfilment", "open_shipment", "location")
    berlin = _html(shop.web, "/dashboard/fulfilment", location="BER")
    assert shop.mine["open_shipment"] in berlin


def dashboard_pick_list(shop: Shop) -> None:
    scoped = _html(shop.web, "/dashboard/fulfilment/pick-list", location="BER")
    assert shop.mine["open_order"] in scoped or shop.mine["open_shipment"] in scoped
    assert not shop.leaks(scoped), shop.leaks(scoped)
    owner = _html(shop.owner, "/dashboard/fulfilment/pick-list", location="BER")
    assert shop.leaks(owner)
    muc = shop.web.get("/dashboard/fulfilment/pick-list", params={"location": "MUC"})
    assert muc.status_code == 404


def dashboard_forecast(shop: Shop) -> None:
    """The forecast fragment reads the picked store's history only (the seeded tenant)."""
    history = shop.history
    analyst = history.with_key("analyst", stores={"web-eu"})
    params = {"metric": "units", "to_day": "2026-02-28"}
    scoped = _html(analyst, "/dashboard/analytics/forecast", **params)
    filtered = _html(history, "/dashboard/analytics/forecast", store="web-eu", **params)
    assert _same(scoped) == _same(filtered)
    assert scoped != _html(history, "/dashboard/analytics/forecast", **params)


def settings_billing(shop: Shop) -> None:
    shop.owner.ok("/v1/billing/stores/b2b", {"payment_terms_days": 60}, 200)
    page(shop, "/dashboard/settings/billing")


def dashboard_people(shop: Shop, path: str) -> None:
    """Users and keys limited to the b2b store are not shown to the web store's admin."""
    email = shop.owner.add_user("analyst", stores={"b2b"})
    shop.owner.with_key("analyst", stores={"b2b"})
    scoped = _html(shop.web, path)
    assert not shop.leaks(scoped), shop.leaks(scoped)
    assert email not in scoped
    everything = _html(shop.owner, path)
    assert "store" in shop.leaks(everything)


def customers(shop: Shop) -> None:
    shown(shop, "/v1/customers", email="ada@example.com")
    hidden(shop, "/v1/customers", email="b2b@example.com")


def pick_lists(shop: Shop) -> None:
    berlin = no_leak(shop, "/v1/pick-lists", location="BER").json()
    assert [s["id"] for s in berlin["shipments"]] == [shop.mine["open_shipment"]]
    assert shop.web.get("/v1/pick-lists", params={"location": "MUC"}).status_code == 404


def pick_work(shop: Shop) -> None:
    def open_at_berlin(tenant: Tenant) -> int:
        work = {w["location"]: w for w in tenant.get("/v1/pick-work").json()}
        return int(work["BER"]["open_shipments"])

    shown(shop, "/v1/pick-work")
    assert (open_at_berlin(shop.web), open_at_berlin(shop.owner)) == (1, 2)


def counted(shop: Shop, path: str) -> None:
    def returns(tenant: Tenant) -> int:
        return sum(c["returns"] for c in tenant.get(path).json()["categories"])

    shown(shop, path)
    assert (returns(shop.web), returns(shop.owner)) == (1, 2)


def invoices(shop: Shop) -> None:
    detail_pair("invoice", "/v1/invoices/{}")(shop)
    detail_pair("invoice", "/v1/invoices/{}.pdf")(shop)


def billing_stores(shop: Shop) -> None:
    shop.owner.ok("/v1/billing/stores/b2b", {"payment_terms_days": 60}, 200)
    no_leak(shop, "/v1/billing/stores")


def ageing(shop: Shop) -> None:
    def invoices(tenant: Tenant) -> int:
        return sum(bucket["invoices"] for bucket in tenant.get("/v1/receivables/ageing").json())

    shown(shop, "/v1/receivables/ageing")
    assert (invoices(shop.web), invoices(shop.owner)) == (1, 2)


def exports(shop: Shop) -> None:
    no_leak(shop, "/v1/exports/invoices")
    no_leak(shop, "/v1/exports/payments")


def reconciliation(shop: Shop) -> None:
    no_leak(shop, "/v1/reconciliation")
    no_leak(shop, "/v1/reconciliation", format="csv")
    as_if_filtered(shop, "/v1/reconciliation")


def payouts(shop: Shop) -> None:
    (scoped,) = no_leak(shop, "/v1/reconciliation/payouts").json()["items"]
    assert (scoped["lines"], scoped["matched"], scoped["missing_in_kontor"]) == (1, 1, 0)
    no_leak(shop, "/v1/reconciliation/payouts", format="csv")


def analytics_customers(shop: Shop) -> None:
    no_leak(shop, "/v1/analytics/customers", **PERIOD)
    as_if_filtered(shop, "/v1/analytics/customers", **PERIOD)


def forecast(shop: Shop) -> None:
    """A forecast needs weeks of history: the seeded one of tests/api/test_analytics.py, whose
    stores are web-eu, web-uk and amazon-de."""
    history = shop.history
    params = {"metric": "units", "horizon": 7, "history_days": 56, "to": "2026-03-01"}
    scoped = history.with_key("analyst", stores={"web-eu"}).get(
        "/v1/analytics/forecast", params=params
    )
    filtered = history.get("/v1/analytics/forecast", params=params | {"store": "web-eu"})
    everything = history.get("/v1/analytics/forecast", params=params)
    assert scoped.status_code == 200, scoped.text
    assert without_store(scoped) == without_store(filtered)
    assert scoped.json()["points"] != everything.json()["points"]


def analytics_inventory(shop: Shop) -> None:
    """Stock counts at the web store's locations only: BER's, not MUC's."""

    def on_hand(tenant: Tenant, **params: Any) -> int:
        items = tenant.get("/v1/analytics/inventory", params=PERIOD | params).json()["items"]
        return next(int(item["on_hand"]) for item in items if item["sku"] == "MUG")

    shown(shop, "/v1/analytics/inventory", **PERIOD)
    berlin = shop.owner.inventory(location="BER")[("MUG", "BER")]["on_hand"]
    assert on_hand(shop.web) == berlin
    assert on_hand(shop.owner) > berlin


def people(shop: Shop, path: str, name: str) -> None:
    shop.owner.add_user("analyst", stores={"b2b"})
    shop.owner.with_key("analyst", stores={"b2b"})
    scoped = shown(shop, path).json()["items"]
    assert all(item["stores"] and set(item["stores"]) <= {"web"} for item in scoped), scoped
    everything = shop.owner.get(path).json()["items"]
    assert any(item["stores"] == ["b2b"] for item in everything), name


# --- the table covers the app ---------------------------------------------------------------------


def get_routes(client: TestClient[Any]) -> dict[str, Any]:
    found = {}
    for route in client.app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if "GET" in handler.http_methods:
                    found[route.path] = handler
    return found


def test_every_get_route_says_how_a_store_scoped_caller_is_served(
    client: TestClient[Any],
) -> None:
    routes = get_routes(client)
    scoped = {
        path
        for path, handler in routes.items()
        if permission_of(handler) not in (Permission.PUBLIC, Permission.SELF)
        and not handler.opt.get(EVERY_STORE)
    }
    assert scoped == set(CHECKS), (
        f"routes without a store-scope check: {sorted(scoped - set(CHECKS))}; "
        f"checks without a route: {sorted(set(CHECKS) - scoped)}"
    )
    own = {path for path, h in routes.items() if permission_of(h) is Permission.SELF}
    assert own == NOT_STORE_DATA


@pytest.mark.parametrize("path", sorted(CHECKS))
def test_a_store_scoped_key_sees_nothing_of_another_store(shop: Shop, path: str) -> None:
    CHECKS[path](shop)


def test_tenant_wide_routes_refuse_a_store_scoped_caller(
    shop: Shop, client: TestClient[Any]
) -> None:
    tenant_wide = [path for path, h in get_routes(client).items() if h.opt.get(EVERY_STORE)]
    assert "/v1/audit/log" in tenant_wide
    stream = f"/v1/audit/order/{shop.mine['order']}"
    page = f"/dashboard/audit/order/{shop.mine['order']}"
    concrete = {
        "/v1/audit/{aggregate:str}/{stream_id:uuid}/events": f"{stream}/events",
        "/v1/audit/{aggregate:str}/{stream_id:uuid}/state": f"{stream}/state",
        "/dashboard/audit/record": (
            f"/dashboard/audit/record?aggregate=order&stream_id={shop.mine['order']}"
        ),
        "/dashboard/audit/{aggregate:str}/{stream_id:uuid}": page,
        "/dashboard/audit/{aggregate:str}/{stream_id:uuid}/state": f"{page}/state",
    }
    regional_owner = shop.owner.with_key("owner", stores={"web"})
    for path in tenant_wide:
        url = concrete.get(path, path)
        assert_problem(regional_owner.get(url), 403, "needs_every_store")
        assert shop.owner.get(url).status_code == 200, url
