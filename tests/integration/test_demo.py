"""The demo data `make run` seeds, and the demo tenant it reuses on a second run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from uuid import UUID

from application.access import Role
from interfaces.bootstrap import build_container, migrate
from interfaces.config import Settings
from interfaces.demo import ensure_demo


def test_the_demo_tenant_is_seeded_once_and_reused(settings: Settings, tmp_path: Path) -> None:
    local = replace(settings, data_dir=tmp_path)
    migrate(local)

    demo = ensure_demo(local, skus=6, orders=25)
    again = ensure_demo(local, skus=6, orders=25)

    assert again == demo
    tenant_id = UUID(demo.tenant_id)
    container = build_container(local, pool_size=1)
    try:
        principal = container.tenants.authenticate(demo.api_key)
        assert principal is not None
        assert principal.tenant_id == tenant_id
        assert principal.roles == {Role.OWNER}
        signed_in = container.users.login(
            tenant_id, demo.owner_email, demo.owner_password, ip="127.0.0.1"
        )
        assert signed_in.session.roles == {Role.OWNER}
        assert len(container.catalog.stores(tenant_id)) == 3
        assert len(container.catalog.locations(tenant_id)) == 4
        assert len(container.catalog.products(tenant_id, after=None, limit=100)) == 6
        with container.datastore.transaction() as curs:
            curs.execute(
                "SELECT count(*) AS placed FROM kontor_events WHERE topic = 'order.OrderPlaced' "
                "AND convert_from(state, 'UTF8')::jsonb #>> '{meta,tenant_id}' = %s",
                (str(tenant_id),),
            )
            row = curs.fetchone()
        assert row is not None
        assert 0 < row["placed"] <= 25
    finally:
        container.close()
