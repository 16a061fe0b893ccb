"""API keys: scoped by roles and stores, shown once, hashed, revoked at once, with last use."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Tenant, assert_problem


def test_a_key_is_shown_once_and_listed_without_its_secret(tenant: Tenant) -> None:
    created = tenant.post("/v1/api-keys", {"name": "shop sync", "roles": ["integrator"]})

    assert created.status_code == 201, created.text
    key = created.json()["api_key"]
    assert key.startswith("kontor_")
    listed = tenant.get("/v1/api-keys").json()["items"]
    mine = next(item for item in listed if item["id"] == created.json()["id"])
    assert mine["roles"] == ["integrator"]
    assert mine["created_by"].startswith("api_key:")
    assert mine["last_used_at"] is None
    assert key not in tenant.get("/v1/api-keys").text
    with tenant.container.datastore.transaction() as curs:
        curs.execute("SELECT secret_hash FROM api_keys WHERE id = %s", (mine["id"],))
        assert curs.fetchone()["secret_hash"].startswith("$argon2id$")

    assert (
        tenant.client.get("/v1/orders", headers={"Authorization": f"Bearer {key}"}).status_code
        == 200
    )
    used = next(i for i in tenant.get("/v1/api-keys").json()["items"] if i["id"] == mine["id"])
    assert used["last_used_at"] is not None


def test_a_revoked_key_stops_working_at_once_though_it_was_just_verified(
    tenant: Tenant, client: Any
) -> None:
    created = tenant.post("/v1/api-keys", {"name": "temp", "roles": ["analyst"]}).json()
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    assert client.get("/v1/orders", headers=headers).status_code == 200  # now cached

    revoked = tenant.post(f"/v1/api-keys/{created['id']}/revoke")

    assert revoked.status_code == 200, revoked.text
    assert_problem(client.get("/v1/orders", headers=headers), 401, "unauthorized")
    listed = tenant.get("/v1/api-keys").json()["items"]
    assert next(i for i in listed if i["id"] == created["id"])["revoked_at"] is not None


def test_a_role_limited_key_is_refused_outside_its_roles(tenant: Tenant) -> None:
    analyst = tenant.with_key("analyst")
    assert analyst.get("/v1/orders").status_code == 200
    assert_problem(
        analyst.post("/v1/stores", {"code": "web", "name": "Web", "currency": "EUR"}),
        403,
        "forbidden",
    )


def test_nobody_grants_more_than_they_hold(tenant: Tenant) -> None:
    admin = tenant.with_key("admin")
    scoped_admin = tenant.with_key("admin", stores={"web"})

    assert_problem(admin.post("/v1/api-keys", {"name": "x", "roles": ["owner"]}), 422)
    assert_problem(
        scoped_admin.post("/v1/api-keys", {"name": "x", "roles": ["analyst"]}), 403, "not_grantable"
    )
    narrower = scoped_admin.post(
        "/v1/api-keys", {"name": "x", "roles": ["analyst"], "stores": ["web"]}
    )
    assert narrower.status_code == 201, narrower.text


def test_revoking_another_tenants_key_is_a_404(tenant: Tenant, other: Tenant) -> None:
    created = tenant.post("/v1/api-keys", {"name": "mine", "roles": ["analyst"]}).json()
    assert_problem(other.post(f"/v1/api-keys/{created['id']}/revoke"), 404, "api_key_not_found")
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    assert tenant.client.get("/v1/orders", headers=headers).status_code == 200


def test_key_actions_land_in_the_security_log_with_their_actor(tenant: Tenant) -> None:
    created = tenant.post("/v1/api-keys", {"name": "log me", "roles": ["analyst"]}).json()
    tenant.post(f"/v1/api-keys/{created['id']}/revoke")
    with tenant.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT actor, action FROM security_log WHERE subject = %s ORDER BY id",
            (f"api_key:{created['id']}",),
        )
        rows = curs.fetchall()
    owner_actor = "api_key:" + tenant.api_key.split("_")[1]
    actors = {row["actor"].replace("-", "") for row in rows}
    assert [row["action"] for row in rows] == ["api_key.created", "api_key.revoked"]
    assert actors == {owner_actor}


def test_events_carry_the_acting_key_or_user(seeded: Tenant) -> None:
    order = seeded.place()
    with seeded.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT convert_from(state, 'UTF8')::jsonb #>> '{meta,actor}' AS actor "
            "FROM kontor_events WHERE originator_id = %s",
            (order["id"],),
        )
        actor = curs.fetchone()["actor"]
    assert actor.replace("-", "") == "api_key:" + seeded.api_key.split("_")[1]
