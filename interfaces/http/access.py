"""The guard every route passes: who is asking (API key or session cookie), may they, and for
cookie-authenticated state changes, does the request carry the session's CSRF token."""

from __future__ import annotations

import hmac
from typing import Any

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem

SESSION_COOKIE = "kontor_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EVERY_STORE = "every_store"
"""Route option for tenant-wide resources (audit log, webhooks, tenant settings): a caller
limited to some stores is refused them (ADR 0037)."""


def permission_of(handler: BaseRouteHandler) -> Permission | None:
    value = handler.opt.get("permission")
    return value if isinstance(value, Permission) else None


async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if connection.scope["method"] == "OPTIONS":  # Litestar's own answer: allowed methods only
        return
    permission = permission_of(handler)
    if permission is None:  # fail closed; the route x role test names the route
        raise ApiProblem(403, "forbidden", "this route has no permission assigned")
    if permission is Permission.PUBLIC:
        return
    container: Container = connection.app.state.container
    principal = await _principal(connection, container)
    if not principal.may(permission):
        detail = (
            "this tenant requires MFA: enrol a TOTP app first (POST /v1/me/mfa/totp)"
            if principal.enrolling
            else f"your role does not allow {permission}"
        )
        raise ApiProblem(403, "forbidden", detail)
    if handler.opt.get(EVERY_STORE) and principal.stores is not None:
        raise ApiProblem(
            403,
            "needs_every_store",
            "this covers every store of the tenant; your access is limited to some stores",
        )
    connection.state.principal = principal


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """The principal the guard authenticated."""
    return request.state.principal  # type: ignore[no-any-return]


async def _principal(
    connection: ASGIConnection[Any, Any, Any, Any], container: Container
) -> Principal:
    header = connection.headers.get("authorization")
    if header is not None:
        return await _from_api_key(header, container)
    token = connection.cookies.get(SESSION_COOKIE)
    if token:
        session = await anyio.to_thread.run_sync(container.sessions.find, token)
        if session is None:
            raise ApiProblem(401, "session_expired", "your session has ended; sign in again")
        if connection.scope["method"] not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise ApiProblem(
                    403,
                    "csrf_token_invalid",
                    f"send the session's CSRF token (from POST /v1/session) as {CSRF_HEADER}",
                )
        return session.principal()
    raise ApiProblem(
        401,
        "unauthorized",
        "send your API key as 'Authorization: Bearer <key>', or sign in (POST /v1/session)",
        **{"WWW-Authenticate": 'Bearer realm="kontor"'},
    )


async def _from_api_key(header: str, container: Container) -> Principal:
    """A key verified recently is found in an in-process cache without leaving the event loop;
    anything else (argon2, Redis, the database) runs on a thread."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiProblem(
            401,
            "unauthorized",
            "send your API key as 'Authorization: Bearer <key>'",
            **{"WWW-Authenticate": 'Bearer realm="kontor"'},
        )
    tenants = container.tenants
    principal = tenants.recently_verified(token) if container.cache.in_process else None
    if principal is None:
        principal = await anyio.to_thread.run_sync(tenants.authenticate, token)
    if principal is None:
        raise ApiProblem(
            401,
            "unauthorized",
            "the API key is unknown or revoked",
            **{"WWW-Authenticate": 'Bearer realm="kontor", error="invalid_token"'},
        )
    return principal
