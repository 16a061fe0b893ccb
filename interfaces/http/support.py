"""Plumbing shared by the routes: idempotent commands, ETags, cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec
from litestar import Request, Response
from litestar.datastructures import State

from application.access import Principal
from application.context import CommandContext, Idempotency
from application.executor import IdempotentReplay
from application.ports import StoredResponse
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.request_log import request_id_of
from interfaces.http.schemas import Page

R = TypeVar("R")
T = TypeVar("T")
JSON = "application/json"
MAX_IDEMPOTENCY_KEY = 255


def container_of(state: State) -> Container:
    return state.container  # type: ignore[no-any-return]


def context_for(request: Request[Any, Any, Any], principal: Principal) -> CommandContext:
    correlation = request.headers.get("x-correlation-id")
    try:
        correlation_id = UUID(correlation) if correlation else uuid4()
    except ValueError:
        correlation_id = uuid4()
    return CommandContext(
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        correlation_id=correlation_id,
        request_id=request_id_of(request.scope),
    )


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(request: Request[Any, Any, Any]) -> int | None:
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ApiProblem(
            400, "invalid_if_match", f"If-Match must be an ETag like '\"3\"', got {header!r}"
        )
    return int(value)


def json_response(status: int, body: bytes, *, version: int | None = None) -> Response[bytes]:
    headers = {"ETag": etag(version)} if version is not None else None
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def run_command(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    data: object,
    run: Callable[[CommandContext], R],
    render: Callable[[R], tuple[int, Any, int | None]],
) -> Response[bytes]:
    """Runs a state-changing command, honouring Idempotency-Key.

    `render` turns the result into (status, body Struct, version for the ETag). With a key, the
    first response is stored in the same transaction as the events, and replayed for retries.
    """
    ctx = context_for(request, principal)
    key = request.headers.get("idempotency-key")

    def encode(result: R) -> tuple[int, bytes, int | None]:
        status, body, version = render(result)
        return status, msgspec.json.encode(body), version

    if key is not None:
        if not key or len(key) > MAX_IDEMPOTENCY_KEY:
            raise ApiProblem(
                400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 characters"
            )
        fingerprint = hashlib.sha256(
            request.method.encode() + request.url.path.encode() + msgspec.json.encode(data)
        ).hexdigest()
        stored = container.idempotency.find(principal.tenant_id, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        ctx = msgspec.structs.replace(ctx, idempotency=Idempotency(key, fingerprint, encode))
    try:
        result = run(ctx)
    except IdempotentReplay:
        assert key is not None
        assert ctx.idempotency is not None
        stored = container.idempotency.find(principal.tenant_id, key)
        assert stored is not None
        return _replay(stored, ctx.idempotency.request_hash)
    status, encoded, version = encode(result)
    return json_response(status, encoded, version=version)


def _replay(stored: StoredResponse, fingerprint: str) -> Response[bytes]:
    if stored.request_hash != fingerprint:
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request; use a new key",
        )
    response = json_response(stored.status, stored.body, version=stored.version)
    response.headers["Idempotent-Replayed"] = "true"
    return response


class Cursor:
    """Opaque cursors: base64url of a JSON array of the last item's sort key."""

    @staticmethod
    def encode(key: list[Any]) -> str:
        return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str | None) -> list[Any] | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            value = msgspec.json.decode(raw)
        except (binascii.Error, ValueError, msgspec.DecodeError) as error:
            raise ApiProblem(
                400, "invalid_cursor", "the cursor is not one this API issued"
            ) from error
        if not isinstance(value, list):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API issued")
        return value


def page_after(cursor: str | None) -> tuple[datetime, UUID] | None:
    """A (timestamp, id) keyset position from a cursor this API issued."""
    after = Cursor.decode(cursor)
    if after is None:
        return None
    try:
        return datetime.fromisoformat(after[0]), UUID(after[1])
    except (ValueError, IndexError, TypeError) as error:
        raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API issued") from error


def page_of(
    rows: Sequence[R], limit: int, key: Callable[[R], list[Any]], item: Callable[[R], T]
) -> Page[T]:
    """The first `limit` of `rows` (read with `limit + 1`) as a page, with a cursor after the
    last one shown (its sort key, `key`) if there were more."""
    shown = rows[:limit]
    cursor = Cursor.encode(key(shown[-1])) if len(rows) > limit else None
    return Page([item(row) for row in shown], cursor)
