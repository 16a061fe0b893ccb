"""The dashboard's navigation and its documentation."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import msgspec

from application.access import ROLE_PERMISSIONS, Permission, Principal, Role
from interfaces.web.nav import NAV, render_pages, visible

PERMISSIONS_DOC = Path(__file__).parents[2] / "docs" / "permissions.md"


def test_the_pages_table_in_the_permissions_doc_is_current() -> None:
    assert render_pages() in PERMISSIONS_DOC.read_text(), (
        "docs/permissions.md is stale: paste interfaces.web.nav.render_pages() into it"
    )


def test_every_nav_entry_is_backed_by_a_real_permission() -> None:
    assert all(item.permission not in (Permission.PUBLIC, Permission.SELF) for item in NAV)
    assert len({item.key for item in NAV}) == len(NAV)


def test_a_principal_sees_the_entries_its_roles_allow_and_an_enrolling_one_none() -> None:
    analyst = Principal(tenant_id=uuid4(), actor="user:x", roles=frozenset({Role.ANALYST}))
    assert visible(analyst) == [
        item for item in NAV if item.permission in ROLE_PERMISSIONS[Role.ANALYST]
    ]
    enrolling = Principal(
        tenant_id=uuid4(), actor="user:x", roles=frozenset({Role.OWNER}), enrolling=True
    )
    assert visible(enrolling) == []


def test_a_principal_limited_to_some_stores_is_not_offered_the_tenant_wide_audit_page() -> None:
    auditor = Principal(tenant_id=uuid4(), actor="user:x", roles=frozenset({Role.AUDITOR}))
    regional = msgspec.structs.replace(auditor, stores=frozenset({"web"}))
    assert "audit" in [item.key for item in visible(auditor)]
    assert "audit" not in [item.key for item in visible(regional)]
