"""The dashboard's part of the Litestar app: page routes (under /dashboard, with errors as
pages for browsers), the templates, and the static files (ours plus the vendored libraries
`make assets` copies from npm)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request, Router
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from application.access import Permission
from interfaces.web.analytics import AnalyticsPages
from interfaces.web.audit import AuditPages
from interfaces.web.auth import AuthPages, RootRedirect, StoreSwitcher
from interfaces.web.errors import PAGE_EXCEPTION_HANDLERS
from interfaces.web.finance import FinancePages
from interfaces.web.fulfilment import FulfilmentPages
from interfaces.web.home import HomePages
from interfaces.web.inventory import InventoryPages
from interfaces.web.live import LiveController
from interfaces.web.orders import OrderPages
from interfaces.web.settings import SettingsPages

WEB = Path(__file__).parent
STATIC = WEB / "static"
VENDOR = STATIC / "vendor"

PAGE_CONTROLLERS: list[Any] = [
    AuthPages,
    RootRedirect,
    StoreSwitcher,
    LiveController,
    HomePages,
    OrderPages,
    InventoryPages,
    FulfilmentPages,
    FinancePages,
    AnalyticsPages,
    AuditPages,
    SettingsPages,
]
"""Every page controller; a new page adds its controller here (see docs/dashboard.md)."""


def money(value: Any) -> str:
    """`Money` (amount + currency) or a bare Decimal, with its minor units and thousands."""
    amount = getattr(value, "amount", value)
    currency = getattr(value, "currency", "")
    text = f"{Decimal(amount):,.2f}"
    return f"{text} {currency}".strip()


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def number(value: Any) -> str:
    return f"{value:,}"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(WEB / "templates"),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt name fails the page's test, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(money=money, when=when, number=number)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


async def note_live_position(request: Request[Any, Any, Any]) -> None:
    """The live feed's position before the page reads anything: the page's live stream starts
    from there, so a change the page's reads missed is still sent to it (ADR 0041)."""
    feed = getattr(request.app.state, "change_feed", None)
    request.state.live_since = feed.position if feed is not None else 0


def dashboard_router() -> Router:
    return Router(
        "/",
        route_handlers=PAGE_CONTROLLERS,
        before_request=note_live_position,
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


def static_router() -> Router:
    if not (VENDOR / "htmx.min.js").exists():
        raise SystemExit(
            f"the dashboard's front-end libraries are missing from {VENDOR}: run `make assets` "
            "(needs npm)"
        )
    return create_static_files_router(
        "/static",
        directories=[STATIC],
        opt={"permission": Permission.PUBLIC},
        cache_control=CacheControlHeader(max_age=3600),
        include_in_schema=False,
    )
