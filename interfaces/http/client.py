"""Who is on the other end: the client's address and whether it came over TLS.

Behind a reverse proxy the socket's peer is the proxy. `trust_proxies` rewrites the ASGI scope's
`client` and `scheme` from `X-Forwarded-For` / `X-Forwarded-Proto`, but only when the peer is in
KONTOR_TRUSTED_PROXIES (granian's own implementation: the client is the right-most address of
the chain that is not a trusted proxy). With the setting empty (the default) the headers are
ignored, so a client cannot claim another address. Everything that needs the address or the
scheme (rate limits, sign-in throttling, the security log, Secure cookies, HSTS) reads it here,
after that rewrite (ADR 0038).
"""

from __future__ import annotations

from typing import Any

from granian.utils.proxies import wrap_asgi_with_proxy_headers
from litestar.types import ASGIApp, Scope


def trust_proxies(networks: tuple[str, ...]) -> Any:
    """Litestar middleware: the forwarded client and scheme, from trusted proxies only."""

    def middleware(app: ASGIApp) -> ASGIApp:
        if not networks:
            return app
        return wrap_asgi_with_proxy_headers(app, list(networks))  # type: ignore[no-any-return]

    return middleware


def client_address(scope: Scope) -> str:
    """The client's address (for a request: `client_address(request.scope)`)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def over_tls(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")
