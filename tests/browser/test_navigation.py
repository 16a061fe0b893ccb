"""Role-aware navigation: each role sees exactly the pages its permissions open, every entry
shown works, and actions appear only for those who may take them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from application.access import ROLE_PERMISSIONS, USER_ROLES, Role
from interfaces.web.nav import NAV
from tests.api.conftest import Tenant


@pytest.mark.parametrize("role", sorted(USER_ROLES))
def test_each_role_sees_the_pages_it_may_open_and_each_one_opens(
    sign_in: Any, seeded: Tenant, role: Role
) -> None:
    page = sign_in(role.value)
    page.goto("/dashboard")
    shown = page.locator("nav[aria-label=Main] a").evaluate_all(
        "links => links.map(link => link.dataset.nav)"
    )
    assert shown == [item.key for item in NAV if item.permission in ROLE_PERMISSIONS[role]]
    for item in NAV:
        if item.key in shown:
            response = page.goto(item.path)
            assert response is not None
            assert response.status == 200, f"{item.path}: {response.status}"
            expect(page.locator(f'[data-nav="{item.key}"]')).to_have_attribute(
                "aria-current", "page"
            )


def test_an_analyst_sees_orders_but_no_actions(sign_in: Any, seeded: Tenant) -> None:
    order = seeded.place()
    page = sign_in("analyst")
    page.goto(f"/dashboard/orders/{order['id']}")
    expect(page.get_by_role("heading", name="Lines")).to_be_visible()
    expect(page.locator("form[data-api]")).to_have_count(0)
    expect(page.get_by_role("heading", name="Actions")).to_have_count(0)


def test_a_page_outside_the_store_scope_is_not_found(sign_in: Any, seeded: Tenant) -> None:
    order = seeded.place(store="b2b")
    page = sign_in("operations", stores={"web"})
    response = page.goto(f"/dashboard/orders/{order['id']}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto("/dashboard")
    expect(page.locator("#store-select option")).to_have_text(["All stores", "web"])


def test_the_store_switcher_narrows_every_page_to_one_store(sign_in: Any, seeded: Tenant) -> None:
    web = seeded.place(store="web", name="Web Customer")
    b2b = seeded.place(store="b2b", name="Wholesale Customer")
    page = sign_in("operations")
    page.goto("/dashboard/orders")
    expect(page.locator("#order-rows tr")).to_have_count(2)

    page.get_by_label("Store").select_option("b2b")
    page.get_by_role("button", name="Switch").click()

    expect(page).to_have_url(re.compile(r"/dashboard/orders$"))
    expect(page.locator(f'#order-rows [data-order-id="{b2b["id"]}"]')).to_be_visible()
    expect(page.locator(f'#order-rows [data-order-id="{web["id"]}"]')).to_have_count(0)
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Today · b2b")
    expect(page.locator("#order-feed li")).to_have_count(1)

    page.get_by_label("Store").select_option("")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("#order-feed li")).to_have_count(2)
