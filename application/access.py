"""Who may do what: roles, permissions, the matrix between them, and store scopes.

Every route names one permission; a principal (a user's session or an API key) holds roles, and
may be limited to some stores. docs/permissions.md is rendered from ROLE_PERMISSIONS.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

import msgspec


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    OPERATIONS = "operations"
    FINANCE = "finance"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    INTEGRATOR = "integrator"


class Permission(StrEnum):
    PUBLIC = "public"
    SELF = "self"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    FULFILMENT_READ = "fulfilment:read"
    FULFILMENT_WRITE = "fulfilment:write"
    FINANCE_READ = "finance:read"
    FINANCE_WRITE = "finance:write"
    BILLING_SETTINGS = "billing:settings"
    EXPORTS = "exports:read"
    ANALYTICS = "analytics:read"
    AUDIT = "audit:read"
    INTEGRATIONS = "integrations:manage"
    USERS = "users:manage"
    API_KEYS = "api_keys:manage"
    SECURITY = "security:settings"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_ERASE = "customers:erase"


DESCRIPTIONS: dict[Permission, str] = {
    Permission.PUBLIC: "no credentials (health, readiness, signed gateway webhooks, login)",
    Permission.SELF: "any signed-in principal: its own session, password and MFA",
    Permission.CATALOG_READ: "stores, locations, products",
    Permission.CATALOG_WRITE: "define stores, locations, products",
    Permission.STOCK_READ: "inventory levels",
    Permission.STOCK_WRITE: "receipts, adjustments, transfers, stock settings",
    Permission.ORDERS_READ: "orders and their timelines",
    Permission.ORDERS_WRITE: "place, import, cancel, hold, release, confirm orders",
    Permission.FULFILMENT_READ: "shipments, pick lists, packing, rates, returns",
    Permission.FULFILMENT_WRITE: "create, pick, pack, label, ship, deliver, track; returns",
    Permission.FINANCE_READ: "invoices, payments, reconciliation, receivables",
    Permission.FINANCE_WRITE: "payments, refunds, voids, credit notes, payouts",
    Permission.BILLING_SETTINGS: "billing settings, tax and FX rates, gateway secrets",
    Permission.EXPORTS: "bulk exports",
    Permission.ANALYTICS: "analytics endpoints",
    Permission.AUDIT: "event history, state as of a moment, tamper verification",
    Permission.INTEGRATIONS: "webhook subscriptions and event relay settings",
    Permission.USERS: "invite, list, change and deactivate users",
    Permission.API_KEYS: "create, list and revoke API keys",
    Permission.SECURITY: "tenant security settings (require MFA)",
    Permission.CUSTOMERS_READ: "find a customer by email; export everything held about them",
    Permission.CUSTOMERS_ERASE: "erase a customer's personal data (GDPR crypto-shredding)",
}

_READ = {
    Permission.SELF,
    Permission.CATALOG_READ,
    Permission.STOCK_READ,
    Permission.ORDERS_READ,
    Permission.FULFILMENT_READ,
    Permission.FINANCE_READ,
}
_EVERYTHING = set(Permission) - {Permission.PUBLIC}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(_EVERYTHING),
    Role.ADMIN: frozenset(_EVERYTHING - {Permission.SECURITY}),
    Role.OPERATIONS: frozenset(
        _READ
        | {
            Permission.CATALOG_WRITE,
            Permission.STOCK_WRITE,
            Permission.ORDERS_WRITE,
            Permission.FULFILMENT_WRITE,
            Permission.EXPORTS,
            Permission.ANALYTICS,
        }
    ),
    Role.FINANCE: frozenset(
        _READ
        | {
            Permission.FINANCE_WRITE,
            Permission.BILLING_SETTINGS,
            Permission.EXPORTS,
            Permission.ANALYTICS,
        }
    ),
    Role.ANALYST: frozenset(_READ | {Permission.EXPORTS, Permission.ANALYTICS}),
    Role.AUDITOR: frozenset(_READ | {Permission.EXPORTS, Permission.ANALYTICS, Permission.AUDIT}),
    Role.INTEGRATOR: frozenset(
        _READ
        | {
            Permission.CATALOG_WRITE,
            Permission.STOCK_WRITE,
            Permission.ORDERS_WRITE,
            Permission.FULFILMENT_WRITE,
            Permission.INTEGRATIONS,
        }
    ),
}

USER_ROLES = frozenset(Role) - {Role.INTEGRATOR}
"""Integrator is a role for programs: only API keys carry it."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller. `stores` is None for every store, else the stores it may see."""

    tenant_id: UUID
    actor: str
    roles: frozenset[Role]
    stores: frozenset[str] | None = None
    enrolling: bool = False
    """A user of a tenant that requires MFA, signed in without it: may only enrol."""

    def may(self, permission: Permission) -> bool:
        if permission is Permission.PUBLIC:
            return True
        if self.enrolling:
            return permission is Permission.SELF
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles)

    def sees(self, store: str) -> bool:
        return self.stores is None or store in self.stores

    def can_grant(self, roles: frozenset[Role], stores: frozenset[str] | None) -> bool:
        """Nobody hands out more than they hold: roles within their own (owners excepted),
        stores within their own scope."""
        if Role.OWNER not in self.roles:
            granted = frozenset().union(*(ROLE_PERMISSIONS[role] for role in roles))
            held = frozenset().union(*(ROLE_PERMISSIONS[role] for role in self.roles))
            if not granted <= held:
                return False
        if self.stores is None:
            return True
        return stores is not None and stores <= self.stores


def render_matrix() -> str:
    """The permission matrix as a Markdown table (docs/permissions.md embeds it verbatim)."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(roles) + " | covers |",
        "| --- | " + " | ".join(":-:" for _ in roles) + " | --- |",
    ]
    for permission in Permission:
        if permission is Permission.PUBLIC:
            continue
        marks = ["x" if permission in ROLE_PERMISSIONS[role] else " " for role in roles]
        lines.append(
            f"| `{permission}` | " + " | ".join(marks) + f" | {DESCRIPTIONS[permission]} |"
        )
    return "\n".join(lines) + "\n"
