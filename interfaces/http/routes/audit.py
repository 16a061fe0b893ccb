"""Audit: a stream's full history, state as of a version or moment, the audit index, verify."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import Parameter

from adapters.postgres.chain import Break, verify
from adapters.postgres.history import HistoryEvent, stream_page
from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.audit import check_owned, kind_named, state_as_of
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import Page
from interfaces.http.support import Cursor, page_of
from projections.audit_log import AuditEntry, audit_log

Limit = Annotated[int, Parameter(ge=1, le=1000)]


class StateOut(msgspec.Struct):
    aggregate: str
    id: UUID
    version: int
    recorded_at: datetime | None
    state: Any
    replayed_from: int


class VerifyOut(msgspec.Struct):
    ok: bool
    scope: str
    events: int
    streams: int
    breaks: list[Break]
    first_bad: Break | None


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiProblem(
            400, "invalid_timestamp", f"{name} must be an RFC 3339 timestamp"
        ) from None
    if moment.tzinfo is None:
        raise ApiProblem(400, "invalid_timestamp", f"{name} needs a UTC offset, e.g. 'Z'")
    return moment


def _after(cursor: str | None) -> int:
    decoded = Cursor.decode(cursor)
    if decoded is None:
        return 0
    if len(decoded) != 1 or not isinstance(decoded[0], int):
        raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API issued")
    return decoded[0]


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]

    @get(
        "/{aggregate:str}/{stream_id:uuid}/events",
        sync_to_thread=True,
        permission=Permission.AUDIT,
        every_store=True,
    )
    def events(
        self,
        aggregate: str,
        stream_id: UUID,
        container: Container,
        principal: Principal,
        limit: Limit = 100,
        cursor: str | None = None,
    ) -> Page[HistoryEvent]:
        """The stream's full history in version order, each event with its metadata (who,
        when, correlation, causation, request id), position and chain hash."""
        kind_named(aggregate)
        check_owned(container.history, principal.tenant_id, stream_id, aggregate)
        items = stream_page(
            container.datastore, stream_id, after_version=_after(cursor), limit=limit + 1
        )
        return page_of(items, limit, lambda last: [last.version], lambda item: item)

    @get(
        "/{aggregate:str}/{stream_id:uuid}/state",
        sync_to_thread=True,
        permission=Permission.AUDIT,
        every_store=True,
    )
    def state(
        self,
        aggregate: str,
        stream_id: UUID,
        container: Container,
        principal: Principal,
        version: Annotated[int | None, Parameter(ge=0)] = None,
        at: str | None = None,
    ) -> StateOut:
        """The aggregate's state as of `version`, or as of the moment `at` (RFC 3339), rebuilt
        by replaying its events (from the stream's snapshot when that lies within the answer:
        `replayed_from`). Without either: the current state."""
        if version is not None and at is not None:
            raise ApiProblem(400, "version_or_at", "give either version or at, not both")
        result = state_as_of(
            container.history,
            container.streams,
            principal.tenant_id,
            aggregate,
            stream_id,
            version=version,
            at=_moment(at, "at"),
        )
        return StateOut(
            result.aggregate,
            result.stream_id,
            result.version,
            result.recorded_at,
            result.state,
            result.replayed_from,
        )

    @get("/log", sync_to_thread=True, permission=Permission.AUDIT, every_store=True)
    def log(
        self,
        container: Container,
        principal: Principal,
        actor: str | None = None,
        type: str | None = None,
        from_: Annotated[str | None, Parameter(query="from")] = None,
        to: str | None = None,
        limit: Limit = 100,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        """The tenant's audit index in global order: who did what to which record when
        (a projection; see /ready for its lag). `from` inclusive, `to` exclusive."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            entries = audit_log(
                curs,
                principal.tenant_id,
                actor=actor,
                event_type=type,
                since=_moment(from_, "from"),
                until=_moment(to, "to"),
                after=_after(cursor),
                limit=limit + 1,
            )
        return page_of(entries, limit, lambda last: [last.position], lambda entry: entry)

    @get("/verify", sync_to_thread=True, permission=Permission.AUDIT, every_store=True)
    def verify(
        self, container: Container, principal: Principal, stream: UUID | None = None
    ) -> Response[VerifyOut]:
        """Checks the hash chain of one stream (`stream`), or of every stream of the tenant and
        its anchor chain. 200 with `ok: false` and every broken link when tampering is found."""
        if stream is not None:
            check_owned(container.history, principal.tenant_id, stream)
        with container.datastore.get_connection() as conn:
            result = verify(conn, stream_id=stream, tenant_id=principal.tenant_id)
        body = VerifyOut(
            ok=result.ok,
            scope=f"stream {stream}" if stream else "tenant",
            events=result.events,
            streams=result.streams,
            breaks=result.breaks,
            first_bad=result.breaks[0] if result.breaks else None,
        )
        return Response(body)
