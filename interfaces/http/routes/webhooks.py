"""Webhook endpoints and their delivery log."""

from __future__ import annotations

import binascii
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Parameter

from adapters.postgres.webhooks import Delivery, Endpoint
from adapters.webhooks.guard import ForbiddenTarget
from adapters.webhooks.signing import new_secret, secret_bytes
from application.access import Permission, Principal
from application.context import CommandContext
from application.ports import IdempotentWrite, StoredResponse
from interfaces.bootstrap import Container
from interfaces.event_catalog import domain_events
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import Page
from interfaces.http.support import Cursor, page_of, run_command

Limit = Annotated[int, Parameter(ge=1, le=200)]
STATUSES = {"pending", "retrying", "succeeded", "failed"}


class EndpointIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    event_types: list[str] = []
    secret: str | None = None


class EndpointOut(msgspec.Struct):
    id: UUID
    url: str
    event_types: list[str]
    created_at: datetime


class CreatedEndpointOut(EndpointOut):
    secret: str


class SecretIn(msgspec.Struct, forbid_unknown_fields=True):
    secret: str | None = None


class RotatedSecretOut(msgspec.Struct):
    endpoint_id: UUID
    secret: str
    detail: str = (
        "deliveries are signed with this secret and the previous one until the next rotation"
    )


def _check_event_types(event_types: list[str]) -> None:
    topics = {cls.topic() for cls in domain_events()}
    aggregates = {topic.split(".", 1)[0] for topic in topics}
    for name in event_types:
        wildcard = name.endswith(".*") and name[:-2] in aggregates
        if name != "*" and name not in topics and not wildcard:
            raise ApiProblem(
                422,
                "unknown_event_type",
                f"unknown event type {name!r}: use a topic from /v1/events/catalog "
                "(e.g. 'order.OrderPlaced'), '<aggregate>.*' or '*'",
            )


def _check_secret(secret: str) -> None:
    try:
        key = secret_bytes(secret)
    except (binascii.Error, ValueError):
        raise ApiProblem(
            422, "invalid_secret", "secret must be 'whsec_' followed by base64"
        ) from None
    if not 24 <= len(key) <= 64:
        raise ApiProblem(422, "invalid_secret", "secret must hold 24 to 64 bytes of key")


def _remember(container: Container, ctx: CommandContext, result: Any) -> None:
    """Stores the first response of an idempotent request that writes no events."""
    if ctx.idempotency is None:
        return
    status, body, version = ctx.idempotency.render(result)
    container.idempotency.remember(
        IdempotentWrite(
            ctx.tenant_id,
            ctx.idempotency.key,
            StoredResponse(ctx.idempotency.request_hash, status, body, version),
        )
    )


class WebhookEndpointController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]

    @post("/endpoints", sync_to_thread=True, permission=Permission.INTEGRATIONS, every_store=True)
    def register(
        self,
        data: EndpointIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Registers an endpoint for events committed from now on. `event_types`: topics,
        `<aggregate>.*` or `*` (empty: all). Without a `secret` one is generated; either way it
        is returned once. Only http(s) URLs, never this API itself."""
        try:
            container.webhook_guard.check_target(data.url, must_resolve=False)
        except ForbiddenTarget as error:
            raise ApiProblem(422, "invalid_url", f"url: {error}") from None
        _check_event_types(data.event_types)
        secret = data.secret or new_secret()
        _check_secret(secret)

        def render(endpoint: Endpoint) -> tuple[int, CreatedEndpointOut, None]:
            return 201, CreatedEndpointOut(**msgspec.structs.asdict(endpoint), secret=secret), None

        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.webhooks.create_endpoint(
                principal.tenant_id, data.url, data.event_types, secret, ctx.idempotency
            ),
            render,
        )

    @get("/endpoints", sync_to_thread=True, permission=Permission.INTEGRATIONS, every_store=True)
    def endpoints(
        self,
        container: Container,
        principal: Principal,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[EndpointOut]:
        """The tenant's endpoints (secrets are never shown again)."""
        after = Cursor.decode(cursor)
        try:
            after_id = UUID(after[0]) if after else None
        except (ValueError, TypeError, IndexError):
            raise ApiProblem(
                400, "invalid_cursor", "the cursor is not one this API issued"
            ) from None
        found = container.webhooks.endpoints(principal.tenant_id, after=after_id, limit=limit + 1)
        return page_of(
            found,
            limit,
            lambda last: [str(last.id)],
            lambda e: EndpointOut(**msgspec.structs.asdict(e)),
        )

    @post(
        "/endpoints/{endpoint_id:uuid}/secrets",
        sync_to_thread=True,
        permission=Permission.INTEGRATIONS,
        every_store=True,
    )
    def rotate_secret(
        self,
        endpoint_id: UUID,
        data: SecretIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Rotates the endpoint's signing secret (generated unless given; shown once). Until the
        next rotation every delivery carries a signature with the new and with the previous
        secret, so the receiver can switch keys at its own pace."""
        secret = data.secret or new_secret()
        _check_secret(secret)

        def run(ctx: CommandContext) -> RotatedSecretOut:
            if not container.webhooks.rotate_secret(principal.tenant_id, endpoint_id, secret):
                raise ApiProblem(404, "endpoint_not_found", f"no webhook endpoint {endpoint_id}")
            rotated = RotatedSecretOut(endpoint_id, secret)
            _remember(container, ctx, rotated)
            return rotated

        return run_command(
            request, container, principal, data, run, lambda rotated: (201, rotated, None)
        )

    @delete(
        "/endpoints/{endpoint_id:uuid}",
        sync_to_thread=True,
        permission=Permission.INTEGRATIONS,
        every_store=True,
        status_code=204,
    )
    def unregister(self, endpoint_id: UUID, container: Container, principal: Principal) -> None:
        """Stops deliveries to the endpoint; queued ones fail. Its log stays readable."""
        if not container.webhooks.delete_endpoint(principal.tenant_id, endpoint_id):
            raise ApiProblem(404, "endpoint_not_found", f"no webhook endpoint {endpoint_id}")

    @get("/deliveries", sync_to_thread=True, permission=Permission.INTEGRATIONS, every_store=True)
    def deliveries(
        self,
        container: Container,
        principal: Principal,
        endpoint_id: UUID | None = None,
        status: str | None = None,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[Delivery]:
        """The delivery log, newest first: status, attempts and each attempt's status code."""
        if status is not None and status not in STATUSES:
            raise ApiProblem(
                400, "invalid_status", f"status must be one of {', '.join(sorted(STATUSES))}"
            )
        after = Cursor.decode(cursor)
        if after is not None and (len(after) != 1 or not isinstance(after[0], int)):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API issued")
        found = container.webhooks.deliveries(
            principal.tenant_id,
            endpoint_id=endpoint_id,
            status=status,
            before=after[0] if after else None,
            limit=limit + 1,
        )
        return page_of(found, limit, lambda last: [last[0]], lambda row: row[1])

    @post(
        "/deliveries/{delivery_id:uuid}/redeliver",
        sync_to_thread=True,
        permission=Permission.INTEGRATIONS,
        every_store=True,
        status_code=202,
    )
    def redeliver(
        self,
        delivery_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sends the delivery again as soon as possible, whatever its status."""

        def run(ctx: CommandContext) -> Delivery:
            delivery = container.webhooks.redeliver(principal.tenant_id, delivery_id)
            if delivery is None:
                raise ApiProblem(
                    404, "delivery_not_found", f"no delivery {delivery_id} to a live endpoint"
                )
            _remember(container, ctx, delivery)
            return delivery

        return run_command(
            request,
            container,
            principal,
            {"redeliver": str(delivery_id)},
            run,
            lambda delivery: (202, delivery, None),
        )
