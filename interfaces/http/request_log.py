"""One request id per request, and one structured log line per request.

The id is the caller's `X-Request-Id` when it is a plain token (letters, digits, `._:-`, at most
128 characters), else a new one; it is echoed in the response, bound to every log line written
while the request runs (structlog contextvars, which follow handlers onto worker threads), and
recorded in the metadata of the events the request appends. The access line names method, path,
status and duration: never headers, query strings or bodies, so keys, cookies, passwords and
tokens cannot reach the log.
"""

from __future__ import annotations

import re
import time
from uuid import uuid4

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
log = structlog.get_logger("kontor.http")


def request_id_of(scope: Scope) -> str:
    """The id `request_context` gave the request (a new one outside it)."""
    return str(scope.get("state", {}).get("request_id") or uuid4().hex)


def request_context(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = MutableScopeHeaders(scope).get("x-request-id") or ""
        request_id = given if REQUEST_ID.fullmatch(given) else uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # type: ignore[typeddict-item]
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-Id"] = request_id
            await send(message)

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )

    return middleware


def log_as_json() -> None:
    """Production log format: one JSON object per line, with level, time and the bound
    request id (the API worker processes call this; tests keep structlog's console format)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    )
