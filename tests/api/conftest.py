"""Fixtures for the REST API tests: one app per package run, one fresh tenant per test.

The container, the app and the projection runners are package-scoped: pytest tears them down
before any test outside `tests/api` runs (also under xdist), so runners of other test modules
never compete with these for the same tracking rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from adapters.embedded.clickhouse import SharedClient, shared_client
from adapters.security import Argon2Hasher
from application.access import Role
from application.context import CommandContext
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from interfaces.http.app import create_app
from interfaces.seed_history import seed_history
from projections.analytics.projector import AnalyticsProjector
from projections.runner import start_runners, wait_until_caught_up

PROBLEM_JSON = "application/problem+json"
USER_PASSWORD = "plum ostrich velvet harbour"


@pytest.fixture(scope="package")
def container(settings: Settings, run_id: str) -> Container:
    """Closed by the app's lifespan when the `client` fixture exits. Its Redis keys (sessions,
    throttles) are this run's own: concurrent runs on one Redis never share a counter."""
    migrate(settings)
    settings = replace(settings, cache_namespace=f"kontor-test-{run_id}")
    built = build_container(settings, pool_size=6)
    # argon2id at test-sized cost: the same code path, a fraction of the CPU per new tenant.
    cheap = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=8 * 1024))
    built.tenants.hasher = cheap
    built.users.hasher = cheap
    return built


@pytest.fixture(scope="package")
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture(scope="package")
def runners(container: Container) -> Iterator[None]:
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)  # on exit: stop, and join its threads
        yield


@pytest.fixture
def caught_up(container: Container, runners: None) -> Any:
    """Call it to block until every projection has applied every stored event."""

    def wait() -> None:
        wait_until_caught_up(container.datastore, timeout=20)

    return wait


@dataclass
class Tenant:
    """A fresh merchant with its API key, and the shortcuts the tests use to talk as it."""

    client: TestClient[Any]
    container: Container
    tenant_id: UUID
    api_key: str
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {self.api_key}"}

    def get(self, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers | (headers or {}), **kwargs)

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        return self.client.post(path, json=json, headers=self.headers | (headers or {}), **kwargs)

    def ok(self, path: str, json: Any, status: int = 201) -> Any:
        """POSTs and insists on `status`; returns the decoded body."""
        response = self.post(path, json)
        assert response.status_code == status, response.text
        return response.json()

    def event_count(self) -> int:
        return event_count(self.container, self.tenant_id)

    def with_key(self, *roles: str, stores: set[str] | None = None) -> Tenant:
        """The same tenant, talking through a new API key with these roles (and stores)."""
        created = self.container.tenants.issue_key(
            self.tenant_id,
            f"test {'+'.join(roles)}",
            roles=frozenset(Role(role) for role in roles),
            stores=None if stores is None else frozenset(stores),
            actor="test",
        )
        return Tenant(self.client, self.container, self.tenant_id, created.api_key)

    def add_user(
        self, *roles: str, stores: set[str] | None = None, password: str = USER_PASSWORD
    ) -> str:
        """A user with these roles (and stores); returns the email (the password is given)."""
        email = f"{'-'.join(roles)}-{uuid4().hex[:6]}@example.com"
        self.container.users.add(
            self.tenant_id,
            email,
            password,
            frozenset(Role(role) for role in roles),
            None if stores is None else frozenset(stores),
        )
        return email

    def inventory(self, **params: Any) -> dict[tuple[str, str], dict[str, Any]]:
        response = self.get("/v1/inventory", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        return {(item["sku"], item["location"]): item for item in response.json()["items"]}

    # --- seeding through the API -------------------------------------------------------------

    def seed(self) -> None:
        """Two stores (one taking backorders), two locations in Germany, three products, stock:
        MUG 10 @ BER + 5 @ MUC, TEE 3 @ BER, CAP none."""
        self.ok("/v1/stores", {"code": "web", "name": "Web shop", "currency": "EUR"})
        self.ok(
            "/v1/stores",
            {"code": "b2b", "name": "Wholesale", "currency": "EUR", "allow_backorders": True},
        )
        self.ok(
            "/v1/locations",
            {"code": "BER", "name": "Berlin", "country": "DE", "region": "BE"},
        )
        self.ok(
            "/v1/locations",
            {"code": "MUC", "name": "Munich", "country": "DE", "region": "BY"},
        )
        for sku, name, price in (("MUG", "Mug", "9.90"), ("TEE", "T-shirt", "19.00")):
            self.product(sku, name, price)
        self.product("CAP", "Cap", "12.50")
        self.receive("BER", MUG=10, TEE=3)
        self.receive("MUC", MUG=5)

    def product(self, sku: str, name: str = "Thing", price: str = "1.00") -> Any:
        prices = [{"store": store, "amount": price, "currency": "EUR"} for store in ("web", "b2b")]
        return self.ok("/v1/products", {"sku": sku, "name": name, "prices": prices})

    def receive(self, location: str, **quantities: int) -> Any:
        lines = [{"sku": sku, "quantity": qty} for sku, qty in quantities.items()]
        return self.ok("/v1/stock/receipts", {"location": location, "lines": lines})

    def place(
        self, status: int = 201, headers: dict[str, str] | None = None, **changes: Any
    ) -> Any:
        response = self.post("/v1/orders", order_body(**changes), headers=headers)
        assert response.status_code == status, response.text
        return response.json()


def order_body(
    *,
    lines: list[dict[str, Any]] | None = None,
    store: str = "web",
    email: str = "ada@example.com",
    name: str = "Ada Lovelace",
    region: str | None = "BE",
    **extra: Any,
) -> dict[str, Any]:
    """A valid order body: by default 2 MUG to Berlin from the web store."""
    address: dict[str, Any] = {
        "name": name,
        "line1": "Unter den Linden 1",
        "city": "Berlin",
        "postal_code": "10117",
        "country": "DE",
    }
    if region is not None:
        address["region"] = region
    return {
        "store": store,
        "channel": "web",
        "currency": "EUR",
        "customer": {"email": email, "name": name},
        "shipping_address": address,
        "lines": lines or [{"sku": "MUG", "quantity": 2, "unit_price": "9.90"}],
        **extra,
    }


def event_count(container: Container, tenant_id: UUID) -> int:
    """How many events the store holds for a tenant (the metadata travels in every row)."""
    with container.datastore.transaction() as curs:
        curs.execute(
            "SELECT count(*) AS n FROM kontor_events "
            "WHERE convert_from(state, 'UTF8')::jsonb #>> '{meta,tenant_id}' = %s",
            (str(tenant_id),),
        )
        row = curs.fetchone()
    return int(row["n"])


def new_tenant(client: TestClient[Any], container: Container) -> Tenant:
    created = container.tenants.create(f"test-{uuid4().hex[:8]}")
    return Tenant(client, container, created.tenant_id, created.api_key)


@pytest.fixture
def tenant(client: TestClient[Any], container: Container) -> Tenant:
    """A fresh tenant with nothing in it: tests never see each other's data."""
    return new_tenant(client, container)


@pytest.fixture
def seeded(tenant: Tenant) -> Tenant:
    """A fresh tenant with stores, locations, products and stock (see Tenant.seed)."""
    tenant.seed()
    return tenant


@pytest.fixture
def other(client: TestClient[Any], container: Container) -> Tenant:
    """A second, unrelated tenant."""
    return new_tenant(client, container)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem with the given status (and code); returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


# --- analytics -----------------------------------------------------------------------------

END = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def merchant(client: TestClient[Any], container: Container) -> Tenant:
    """A tenant with 60 days of history up to END, projected into ClickHouse."""
    tenant = new_tenant(client, container)
    ctx = CommandContext(tenant_id=tenant.tenant_id, actor="system:test")
    seed_history(container, ctx, days=60, orders=120, skus=10, end=END)
    project(container)
    return tenant


def project(container: Container) -> SharedClient:
    """Brings the analytics tables up to date with the event store; returns their client."""
    assert container.settings.clickhouse_url is not None
    client = shared_client(container.settings.clickhouse_url)
    projector = AnalyticsProjector(container.datastore, client)
    projector.migrate()
    projector.catch_up()
    return client
