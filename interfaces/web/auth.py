"""Sign-in and the dashboard's entry points. Signing in and out are the REST API's
`/v1/session` calls, made by static/login.js and static/dashboard.js."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect, Template

from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.access import SESSION_COOKIE
from interfaces.http.problems import ApiProblem
from interfaces.web.pages import STORE_COOKIE, store_choices


def _safe_next(value: str | None) -> str:
    """Only a path of this dashboard: never an open redirect to another site."""
    if value and value.startswith("/dashboard") and not value.startswith("//"):
        return value
    return "/dashboard"


class AuthPages(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/login", sync_to_thread=True, permission=Permission.PUBLIC)
    def login(
        self, request: Request[Any, Any, Any], container: Container, next: str | None = None
    ) -> Template | Redirect:
        """The sign-in form (a second step asks for a one-time code where the account has
        one); someone already signed in goes on to the page they asked for."""
        token = request.cookies.get(SESSION_COOKIE)
        if token and container.sessions.find(token) is not None:
            return Redirect(_safe_next(next), status_code=303)
        return Template("login.html", context={"next": _safe_next(next)})


class RootRedirect(Controller):
    path = "/"
    include_in_schema = False

    @get("/", permission=Permission.PUBLIC)
    async def root(self) -> Redirect:
        """The dashboard lives under /dashboard; the API under /v1."""
        return Redirect("/dashboard/login", status_code=307)


class StoreSwitcher(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/store", sync_to_thread=True, permission=Permission.SELF)
    def switch(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        store: str = "",
        next: str | None = None,
    ) -> Redirect:
        """Picks the store the pages show (empty: every store the principal sees); remembered
        in a cookie, so it applies to every page until changed."""
        response = Redirect(_safe_next(next), status_code=303)
        if not store:
            response.delete_cookie(STORE_COOKIE, path="/dashboard")
            return response
        if store not in store_choices(request, container, principal):
            raise ApiProblem(404, "unknown_store", f"no store {store!r}")
        response.set_cookie(STORE_COOKIE, store, path="/dashboard", httponly=True, samesite="lax")
        return response
