"""Changing a user's roles and stores (PATCH /v1/users/{id}): nobody grants more than they hold,
the last owner stays an owner, and the change takes effect at once (the user's sessions end)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.access import Principal, Role
from application.users import UNCHANGED, LastOwner
from tests.api.conftest import Tenant, assert_problem
from tests.api.test_sessions import Browser


def user_id(tenant: Tenant, email: str) -> str:
    user = tenant.container.users.store.by_email(tenant.tenant_id, email)
    assert user is not None
    return str(user.id)


def patch(tenant: Tenant, who: str, body: Any) -> Any:
    return tenant.client.patch(f"/v1/users/{who}", json=body, headers=tenant.headers)


def listed(tenant: Tenant) -> dict[str, dict[str, Any]]:
    return {user["id"]: user for user in tenant.get("/v1/users").json()["items"]}


def security_log(tenant: Tenant, subject: str) -> list[dict[str, Any]]:
    with tenant.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT actor, action, detail FROM security_log WHERE tenant_id = %s AND subject = %s "
            "ORDER BY id",
            (tenant.tenant_id, subject),
        )
        return list(curs.fetchall())


def test_roles_and_stores_change_at_once_and_are_logged(tenant: Tenant, client: Any) -> None:
    email = tenant.add_user("analyst")
    who = user_id(tenant, email)
    browser = Browser(client, tenant)
    assert browser.login(email).status_code == 201

    changed = patch(tenant, who, {"roles": ["operations"], "stores": ["web"]})

    assert changed.status_code == 200, changed.text
    assert changed.json() == {"id": who, "email": email, "roles": ["operations"], "stores": ["web"]}
    assert (listed(tenant)[who]["roles"], listed(tenant)[who]["stores"]) == (
        ["operations"],
        ["web"],
    )
    assert_problem(browser.get("/v1/session"), 401, "session_expired")
    assert browser.login(email).json()["roles"] == ["operations"]
    assert browser.get("/v1/session").json()["stores"] == ["web"]
    actions = [(e["action"], e["detail"]) for e in security_log(tenant, f"user:{who}")]
    assert [a for a in actions if a[0] != "session.started"] == [
        ("user.access_changed", "roles=operations stores=web")
    ]
    assert actions.count(("session.started", None)) == 2


def test_a_partial_change_keeps_the_other_field_and_null_stores_means_every_store(
    tenant: Tenant,
) -> None:
    who = user_id(tenant, tenant.add_user("finance", stores={"web"}))

    assert patch(tenant, who, {"roles": ["analyst"]}).json()["stores"] == ["web"]
    assert patch(tenant, who, {"stores": None}).json()["roles"] == ["analyst"]
    assert (listed(tenant)[who]["roles"], listed(tenant)[who]["stores"]) == (["analyst"], None)


def test_nobody_grants_more_than_they_hold(tenant: Tenant) -> None:
    admin = tenant.with_key("admin")
    regional = tenant.with_key("admin", stores={"web"})
    analyst = user_id(tenant, tenant.add_user("analyst", stores={"web"}))
    owner = user_id(tenant, tenant.add_user("owner"))
    elsewhere = user_id(tenant, tenant.add_user("analyst", stores={"b2b"}))

    assert_problem(patch(admin, analyst, {"roles": ["owner"]}), 403, "not_grantable")
    assert_problem(patch(admin, owner, {"roles": ["analyst"]}), 403, "not_grantable")
    assert_problem(patch(regional, analyst, {"stores": None}), 403, "not_grantable")
    assert_problem(patch(regional, analyst, {"stores": ["web", "b2b"]}), 403, "not_grantable")
    assert_problem(patch(regional, elsewhere, {"roles": ["analyst"]}), 404, "user_not_found")
    assert elsewhere not in listed(regional)
    assert set(listed(regional)) == {analyst}
    assert patch(regional, analyst, {"roles": ["operations"]}).status_code == 200
    users = listed(tenant)
    assert (users[owner]["roles"], users[elsewhere]["stores"]) == (["owner"], ["b2b"])


def test_the_last_owner_is_neither_demoted_nor_disabled(tenant: Tenant) -> None:
    first = user_id(tenant, tenant.add_user("owner"))

    assert_problem(patch(tenant, first, {"roles": ["admin"]}), 409, "last_owner")
    assert_problem(tenant.post(f"/v1/users/{first}/disable"), 409, "last_owner")
    assert listed(tenant)[first]["roles"] == ["owner"]
    assert listed(tenant)[first]["disabled"] is False

    second = user_id(tenant, tenant.add_user("owner"))
    assert patch(tenant, first, {"roles": ["admin"]}).status_code == 200
    assert_problem(tenant.post(f"/v1/users/{second}/disable"), 409, "last_owner")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"roles": []}, 422, "validation_failed"),
        ({"roles": ["integrator"]}, 422, "invalid_command"),
        ({"roles": ["wizard"]}, 422, "validation_failed"),
        ({"stores": []}, 422, "validation_failed"),
        ({"roles": ["analyst"], "email": "x@example.com"}, 422, "validation_failed"),
        ("roles", 422, "validation_failed"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    tenant: Tenant, body: Any, status: int, code: str | None
) -> None:
    who = user_id(tenant, tenant.add_user("analyst", stores={"web"}))

    assert_problem(patch(tenant, who, body), status, code)
    assert (listed(tenant)[who]["roles"], listed(tenant)[who]["stores"]) == (["analyst"], ["web"])
    assert security_log(tenant, f"user:{who}") == []


def test_an_unknown_user_is_404(tenant: Tenant) -> None:
    assert_problem(patch(tenant, str(uuid4()), {"roles": ["analyst"]}), 404, "user_not_found")


def test_two_owners_demoting_each_other_at_once_leave_one_owner(tenant: Tenant) -> None:
    """The last-owner check and the write share one transaction that locks the owners."""
    users = tenant.container.users
    owners = [UUID(user_id(tenant, tenant.add_user("owner"))) for _ in range(2)]
    by = Principal(tenant_id=tenant.tenant_id, actor="test", roles=frozenset({Role.OWNER}))

    def demote(who: UUID) -> bool:
        try:
            users.change_access(by, who, frozenset({Role.ADMIN}), UNCHANGED)
        except LastOwner:
            return False
        return True

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(demote, owners))

    assert sorted(outcomes) == [False, True]
    roles = {user["id"]: user["roles"] for user in listed(tenant).values()}
    assert sorted(roles[str(who)] for who in owners) == [["admin"], ["owner"]]
