"""Settings: stores and locations (with their backorder policy), invoicing policies and tax
rates, carriers and boxes, users and roles, API keys (shown once), webhooks with their delivery
log. Each section is its own page behind the permission of the API routes it reads; the
section tabs show only the sections the principal may open, and forms only what it may change."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.response import Template

from application.access import USER_ROLES, Permission, Principal, Role
from domain.shared.ids import location_stream_id
from interfaces.bootstrap import Container
from interfaces.http.people_schemas import ApiKeyOut
from interfaces.http.routes.people import key_in_scope
from interfaces.http.routes.shipping_settings import BoxIn, RateCardIn
from interfaces.http.routes.webhooks import EndpointOut
from interfaces.http.schemas import LocationOut, StoreOut
from interfaces.http.scope import locations_of
from interfaces.web.pages import render, store_choices

DELIVERIES_SHOWN = 50
ENDPOINTS_SHOWN = 200


class Section(msgspec.Struct, frozen=True):
    key: str
    label: str
    path: str
    permission: Permission
    every_store: bool = False
    """Tenant-wide settings: refused to a principal limited to some stores (ADR 0037)."""

    def opens_for(self, principal: Principal) -> bool:
        return principal.may(self.permission) and (not self.every_store or principal.stores is None)


SECTIONS = [
    Section("general", "Stores and locations", "/dashboard/settings", Permission.CATALOG_READ),
    Section("billing", "Invoicing and tax", "/dashboard/settings/billing", Permission.FINANCE_READ),
    Section(
        "shipping", "Carriers and boxes", "/dashboard/settings/shipping", Permission.FULFILMENT_READ
    ),
    Section("users", "Users and roles", "/dashboard/settings/users", Permission.USERS),
    Section("api-keys", "API keys", "/dashboard/settings/api-keys", Permission.API_KEYS),
    Section("webhooks", "Webhooks", "/dashboard/settings/webhooks", Permission.INTEGRATIONS, True),
]


def _page(
    template: str,
    section: str,
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    **context: Any,
) -> Template:
    return render(
        template,
        request,
        container,
        principal,
        current="settings",
        sections=[s for s in SECTIONS if s.opens_for(principal)],
        section=section,
        **context,
    )


def _grantable(principal: Principal, role: Role) -> bool:
    """Whether the principal may hand this role out (within its own store scope)."""
    return principal.can_grant(frozenset({role}), principal.stores)


def _keys(container: Container, principal: Principal) -> list[ApiKeyOut]:
    """The keys the principal manages: for one limited to some stores, those limited to them."""
    keys = container.tenants.store.list_keys(principal.tenant_id)
    return [
        ApiKeyOut(**msgspec.structs.asdict(key))
        for key in reversed(keys)
        if key_in_scope(principal, key)
    ]


def _endpoints(container: Container, principal: Principal) -> list[EndpointOut]:
    found = container.webhooks.endpoints(principal.tenant_id, after=None, limit=ENDPOINTS_SHOWN)
    return [EndpointOut(**msgspec.structs.asdict(endpoint)) for endpoint in found]


class SettingsPages(Controller):
    path = "/dashboard/settings"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.CATALOG_READ)
    def general(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """Stores (currency, backorders, reservation time) and stock locations."""
        stores = container.catalog.stores(principal.tenant_id)
        locations = container.catalog.locations(principal.tenant_id)
        visible = locations_of(stores, principal)
        return _page(
            "settings/general.html",
            "general",
            request,
            container,
            principal,
            store_list=[StoreOut.of(s) for s in stores if principal.sees(s.code)],
            locations=[
                LocationOut.of(loc, location_stream_id(principal.tenant_id, loc.code))
                for loc in locations
                if visible is None or loc.code in visible
            ],
        )

    @get("/billing", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def billing(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """Invoicing policy per store, tax rates, exchange rates, tax exemptions."""
        tenant = principal.tenant_id
        return _page(
            "settings/billing.html",
            "billing",
            request,
            container,
            principal,
            tenant_billing=container.billing.tenant(tenant),
            policies=[
                policy
                for policy in container.billing.listing("store_billing", tenant)
                if principal.sees(policy["store"])
            ],
            tax_rates=container.billing.listing("tax_rates", tenant),
            exemptions=container.billing.listing("tax_exemptions", tenant),
            store_codes=store_choices(request, container, principal),
        )

    @get("/shipping", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def shipping(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """The box catalogue and carrier rate cards in force, with their source."""
        effective = container.shipping_settings.effective(principal.tenant_id)
        boxes = msgspec.convert(msgspec.to_builtins(effective.boxes), list[BoxIn])
        cards = msgspec.convert(msgspec.to_builtins(effective.cards), list[RateCardIn])
        return _page(
            "settings/shipping.html",
            "shipping",
            request,
            container,
            principal,
            effective=effective,
            boxes=boxes,
            cards=cards,
            boxes_json=msgspec.json.format(msgspec.json.encode(boxes)).decode(),
        )

    @get("/users", sync_to_thread=True, permission=Permission.USERS)
    def users(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """Users with their roles and stores (for a principal limited to some stores: the users
        limited to those stores, as GET /v1/users); invitations; disabling."""
        return _page(
            "settings/users.html",
            "users",
            request,
            container,
            principal,
            users=[
                user
                for user in container.users.store.list_users(principal.tenant_id)
                if container.users.visible_to(principal, user)
            ],
            grantable=[
                r
                for r in sorted(USER_ROLES)
                if principal.can_grant(frozenset({r}), principal.stores)
            ],
            store_codes=store_choices(request, container, principal),
        )

    @get("/api-keys", sync_to_thread=True, permission=Permission.API_KEYS)
    def api_keys(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """API keys (never their secrets), newest first; a new key is shown once."""
        grantable = [r for r in sorted(Role) if r is not Role.OWNER and _grantable(principal, r)]
        return _page(
            "settings/api_keys.html",
            "api-keys",
            request,
            container,
            principal,
            keys=_keys(container, principal),
            grantable=grantable,
        )

    @get("/api-keys/rows", sync_to_thread=True, permission=Permission.API_KEYS)
    def api_key_rows(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """The key list, re-fetched after a key is created (the page keeps showing it)."""
        return _page(
            "settings/_api_key_rows.html",
            "api-keys",
            request,
            container,
            principal,
            keys=_keys(container, principal),
        )

    @get("/webhooks", sync_to_thread=True, permission=Permission.INTEGRATIONS, every_store=True)
    def webhooks(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """Webhook endpoints and the delivery log, newest first."""
        deliveries = container.webhooks.deliveries(
            principal.tenant_id,
            endpoint_id=None,
            status=None,
            before=None,
            limit=DELIVERIES_SHOWN,
        )
        return _page(
            "settings/webhooks.html",
            "webhooks",
            request,
            container,
            principal,
            endpoints=_endpoints(container, principal),
            deliveries=[delivery for _, delivery in deliveries],
        )

    @get(
        "/webhooks/rows", sync_to_thread=True, permission=Permission.INTEGRATIONS, every_store=True
    )
    def endpoint_rows(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """The endpoint list, re-fetched after one is registered."""
        return _page(
            "settings/_endpoint_rows.html",
            "webhooks",
            request,
            container,
            principal,
            endpoints=_endpoints(container, principal),
        )
