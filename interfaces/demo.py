"""The demo tenant `make run` creates once and reuses on later runs."""

from __future__ import annotations

import json
import os
from uuid import UUID

from rich.progress import Progress

from application.context import CommandContext
from interfaces.bootstrap import build_container
from interfaces.config import Settings
from interfaces.seed import seed, stage_reporter

DEMO_FILE = "demo-tenant.json"


def ensure_demo(settings: Settings, *, skus: int = 50, orders: int = 300) -> tuple[UUID, str]:
    """Returns the demo tenant and its API key, creating and seeding them on the first run.

    The key is kept (mode 0600) in the data dir so a second run can print it again: it is a
    local demo credential; real keys are shown once and only their hash is stored.
    """
    path = settings.data_dir / DEMO_FILE
    container = build_container(settings, pool_size=4)
    try:
        if path.exists():
            saved = json.loads(path.read_text())
            tenant_id, api_key = UUID(saved["tenant_id"]), saved["api_key"]
            if container.tenants.authenticate(api_key) is not None:
                return tenant_id, api_key
        created = container.tenants.create("demo")
        ctx = CommandContext(tenant_id=created.tenant_id, actor="system:seed")
        with Progress() as progress:
            seed(container, ctx, skus=skus, orders=orders, progress=stage_reporter(progress))
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"tenant_id": str(created.tenant_id), "api_key": created.api_key})
        )
        os.chmod(path, 0o600)
        return created.tenant_id, created.api_key
    finally:
        container.close()
