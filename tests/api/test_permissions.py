"""Every route names a permission, and the guard enforces the matrix for every role.

The routes are enumerated from the app itself: a route added without a permission fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from application.access import ROLE_PERMISSIONS, Permission, Role, render_matrix
from interfaces.http.access import permission_of
from tests.api.conftest import Tenant

MATRIX_DOC = Path(__file__).parents[2] / "docs" / "permissions.md"
PLACEHOLDERS = {"uuid": "00000000-0000-4000-8000-000000000000", "str": "x", "int": "1"}


def app_routes(client: Any) -> list[tuple[str, str, Permission | None]]:
    """(method, concrete path, permission) for every registered route handler."""
    found = []
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"\{\w+:(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "x"), route.path)
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                found.append((method, path, permission_of(handler)))
    return found


def test_every_route_names_a_permission(client: Any) -> None:
    missing = [
        f"{method} {path}" for method, path, permission in app_routes(client) if not permission
    ]
    assert not missing, f"routes without a permission: {missing}"


def test_the_permission_matrix_doc_is_current() -> None:
    assert render_matrix() in MATRIX_DOC.read_text(), (
        "docs/permissions.md is stale: paste application.access.render_matrix() into it"
    )


def test_without_credentials_only_public_routes_answer(client: Any) -> None:
    wrong = []
    for method, path, permission in app_routes(client):
        status = client.request(method, path, json={}).status_code
        if (permission is Permission.PUBLIC) == (status == 401):
            wrong.append(f"{method} {path} ({permission}): {status}")
    assert not wrong, wrong


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_the_routes_of_its_permissions(
    tenant: Tenant, client: Any, role: Role
) -> None:
    """Allowed: anything but a 403 `forbidden` (mostly 404 or 422 for these dummy requests);
    refused: a 403 `forbidden` problem, decided before the body is read."""
    caller = tenant.with_key(role.value)
    wrong = []
    for method, path, permission in app_routes(client):
        if permission is Permission.PUBLIC:
            continue
        response = client.request(method, path, json={}, headers=caller.headers)
        refused = response.status_code == 403 and response.json().get("code") == "forbidden"
        allowed = permission in ROLE_PERMISSIONS[role]
        if refused == allowed or response.status_code in (401, 500):
            wrong.append(f"{method} {path} ({permission}): {response.status_code}")
    assert not wrong, wrong
    assert tenant.event_count() == 0
