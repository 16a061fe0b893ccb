"""The dashboard's navigation: one entry per page, each backed by the permission its page
route declares. A principal sees an entry only if it may open the page behind it."""

from __future__ import annotations

import msgspec

from application.access import Permission, Principal


class NavItem(msgspec.Struct, frozen=True):
    key: str
    """Names the page in templates (`current`) and in tests (`data-nav` attributes)."""
    label: str
    path: str
    permission: Permission
    every_store: bool = False
    """A tenant-wide page: not offered to a principal limited to some stores (ADR 0037)."""


NAV: list[NavItem] = [
    NavItem("home", "Home", "/dashboard", Permission.ORDERS_READ),
    NavItem("orders", "Orders", "/dashboard/orders", Permission.ORDERS_READ),
    NavItem("inventory", "Inventory", "/dashboard/inventory", Permission.STOCK_READ),
    NavItem("fulfilment", "Fulfilment", "/dashboard/fulfilment", Permission.FULFILMENT_READ),
    NavItem("finance", "Finance", "/dashboard/finance", Permission.FINANCE_READ),
    NavItem("analytics", "Analytics", "/dashboard/analytics", Permission.ANALYTICS),
    NavItem("audit", "Audit", "/dashboard/audit", Permission.AUDIT, every_store=True),
    NavItem("settings", "Settings", "/dashboard/settings", Permission.CATALOG_READ),
]
"""In display order. A new page appends its entry here (see docs/dashboard.md)."""


def visible(principal: Principal) -> list[NavItem]:
    return [
        item
        for item in NAV
        if principal.may(item.permission) and (not item.every_store or principal.stores is None)
    ]


def render_pages() -> str:
    """The navigation as a Markdown table (docs/permissions.md embeds it verbatim)."""
    lines = ["| page | path | permission |", "| --- | --- | --- |"]
    lines += [f"| {item.label} | `{item.path}` | `{item.permission}` |" for item in NAV]
    return "\n".join(lines) + "\n"
