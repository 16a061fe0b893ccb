"""The demo tenant `make run` creates once and reuses on later runs."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from uuid import UUID

from rich.progress import Progress

from application.access import Role
from application.context import CommandContext
from interfaces.bootstrap import Container, build_container
from interfaces.config import Settings
from interfaces.seed import seed, stage_reporter
from interfaces.seed_history import seed_history

DEMO_FILE = "demo-tenant.json"
OWNER_EMAIL = "owner@demo.kontor.dev"


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    api_key: str
    owner_email: str
    owner_password: str


def ensure_demo(
    settings: Settings,
    *,
    skus: int = 50,
    orders: int = 300,
    history_days: int = 0,
    history_orders: int = 0,
) -> DemoTenant:
    """The demo tenant, its owner API key and its owner user's dashboard sign-in, creating and
    seeding them on the first run: `history_orders` spread over the last `history_days` (so
    that Home's comparisons and the analytics have a past), then `orders` placed now.

    They are kept (mode 0600) in the data dir so a second run can print them again: a local
    demo credential; real keys and passwords are shown once and only their hashes are stored.
    """
    path = settings.data_dir / DEMO_FILE
    container = build_container(settings, pool_size=4)
    try:
        if path.exists():
            saved = json.loads(path.read_text())
            tenant_id, api_key = UUID(saved["tenant_id"]), saved["api_key"]
            if container.tenants.authenticate(api_key) is not None:
                if "owner_password" not in saved:  # a data dir from before users existed
                    saved |= {
                        "owner_email": OWNER_EMAIL,
                        "owner_password": _owner(container, tenant_id),
                    }
                    _save(settings, DemoTenant(**saved))
                return DemoTenant(**saved)
        created = container.tenants.create("demo")
        ctx = CommandContext(tenant_id=created.tenant_id, actor="system:seed")
        with Progress() as progress:
            if history_orders:
                seed_history(
                    container,
                    ctx,
                    days=history_days,
                    orders=history_orders,
                    skus=skus,
                    progress=stage_reporter(progress),
                )
            seed(container, ctx, skus=skus, orders=orders, progress=stage_reporter(progress))
        demo = DemoTenant(
            str(created.tenant_id),
            created.api_key,
            OWNER_EMAIL,
            _owner(container, created.tenant_id),
        )
        _save(settings, demo)
        return demo
    finally:
        container.close()


def _owner(container: Container, tenant_id: UUID) -> str:
    password = secrets.token_urlsafe(18)
    container.users.add(tenant_id, OWNER_EMAIL, password, frozenset({Role.OWNER}))
    return password


def _save(settings: Settings, demo: DemoTenant) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / DEMO_FILE
    path.write_text(json.dumps(asdict(demo)))
    os.chmod(path, 0o600)
