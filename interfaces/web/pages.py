"""What every dashboard page shares: the layout's context (navigation, store switcher, CSRF
token) and `render`, which page handlers return.

Pages read through the same services and read-model queries as the REST routes and render the
API's own response schemas; their forms send JSON to the REST API (static/dashboard.js), so
every rule, permission and error is the API's."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from application.access import Permission, Principal
from domain.store.model import Store
from interfaces.bootstrap import Container
from interfaces.http.access import SESSION_COOKIE
from interfaces.http.scope import locations_of
from interfaces.web.nav import visible

STORE_COOKIE = "kontor_store"


def _stores(
    request: Request[Any, Any, Any], container: Container, principal: Principal
) -> list[Store]:
    """The tenant's stores, read once per request: the layout, the scope and the pickers of
    one page all need them."""
    found: list[Store] | None = getattr(request.state, "tenant_stores", None)
    if found is None:
        found = container.catalog.stores(principal.tenant_id)
        request.state.tenant_stores = found
    return found


def store_choices(
    request: Request[Any, Any, Any], container: Container, principal: Principal
) -> list[str]:
    """The store codes the principal may switch between."""
    return [s.code for s in _stores(request, container, principal) if principal.sees(s.code)]


def chosen_store(request: Request[Any, Any, Any], choices: list[str]) -> str | None:
    """The store picked in the switcher, or None for the consolidated view of every store the
    principal sees. A cookie naming a store out of scope counts as none."""
    picked = request.cookies.get(STORE_COOKIE)
    return picked if picked in choices else None


def csrf_token(request: Request[Any, Any, Any], container: Container) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or "authorization" in request.headers:
        return None
    session = container.sessions.find(token)
    return None if session is None else session.csrf_token


def render(
    template: str,
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    *,
    current: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A full page (or, for an htmx request of a fragment template, just that fragment)."""
    choices = store_choices(request, container, principal)
    return Template(
        template_name=template,
        status_code=status_code,
        context={
            "principal": principal,
            "can": principal.may,
            "P": Permission,
            "nav": visible(principal),
            "current": current,
            "stores": choices,
            "store": chosen_store(request, choices),
            "session_csrf": csrf_token(request, container),
            "path": request.url.path,
            "live_since": getattr(request.state, "live_since", 0),
            **context,
        },
    )


def picked_store(
    request: Request[Any, Any, Any], container: Container, principal: Principal
) -> str | None:
    """The store picked in the switcher (None: every store the principal sees)."""
    return chosen_store(request, store_choices(request, container, principal))


def store_scope(
    request: Request[Any, Any, Any], container: Container, principal: Principal
) -> frozenset[str] | None:
    """The stores a page shows: the one picked in the switcher, else all the principal sees."""
    picked = picked_store(request, container, principal)
    return principal.stores if picked is None else frozenset({picked})


def location_scope(
    request: Request[Any, Any, Any], container: Container, principal: Principal
) -> frozenset[str] | None:
    """The locations a page shows (None: all): those of the store picked in the switcher where
    it has any assigned, else every location the principal may see (interfaces/http/scope.py)."""
    stores = _stores(request, container, principal)
    picked = picked_store(request, container, principal)
    if picked is not None:
        store = next(s for s in stores if s.code == picked)
        if store.locations:
            return frozenset(store.locations)
    return locations_of(stores, principal)


def location_choices(
    request: Request[Any, Any, Any], container: Container, principal: Principal
) -> list[str]:
    """The location codes a page's filters and forms offer."""
    shown = location_scope(request, container, principal)
    codes = [location.code for location in container.catalog.locations(principal.tenant_id)]
    return [code for code in codes if shown is None or code in shown]
