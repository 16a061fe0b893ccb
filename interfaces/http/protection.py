"""Abuse protection on every route: rate limits per credential and per client address, and the
security headers every response carries (ADR 0033)."""

from __future__ import annotations

import anyio
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.rate_limits import RateLimiter
from interfaces.http.client import client_address, over_tls
from interfaces.http.problems import ApiProblem

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The OpenAPI viewers Litestar serves under /schema load their scripts from a CDN and start them
# with an inline script; they are the only pages that need more than the strict policy.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
    "https://unpkg.com; style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
    "https://unpkg.com https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://cdn.jsdelivr.net; object-src 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
SESSION_COOKIE = "kontor_session"


def _credential(headers: MutableScopeHeaders) -> str | None:
    authorization = headers.get("authorization")
    if authorization:
        return authorization.partition(" ")[2].strip() or authorization
    for part in (headers.get("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def rate_limit(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limiter: RateLimiter = scope["litestar_app"].state.container.limiter
            address = client_address(scope)
            credential = _credential(MutableScopeHeaders(scope))
            if limiter.cache.in_process:
                wait = limiter.retry_after(credential, address)
            else:
                wait = await anyio.to_thread.run_sync(limiter.retry_after, credential, address)
            if wait is not None:
                raise ApiProblem(
                    429,
                    "rate_limited",
                    f"too many requests; try again in {wait} seconds",
                    **{"Retry-After": str(wait)},
                )
        await app(scope, receive, send)

    return middleware


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook, so it also sees the answers no route handled (404, 405)."""
    if message["type"] != "http.response.start":
        return
    path = scope.get("path", "")
    docs = path.startswith("/schema") and not path.endswith((".json", ".yaml"))
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Security-Policy"] = DOCS_CSP if docs else CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if over_tls(scope):  # behind a TLS-terminating proxy: see KONTOR_TRUSTED_PROXIES
        headers["Strict-Transport-Security"] = HSTS
