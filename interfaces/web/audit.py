"""Audit: who did what to which record (the audit index), one record's full event history with
its metadata, its state as of any version (a slider), and hash-chain verification of one
record or of every stream of the account."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Template

from adapters.postgres.chain import verify
from adapters.postgres.history import stream_page
from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.audit import check_owned, kind_named, kinds, state_as_of
from interfaces.bootstrap import Container
from interfaces.http.routes.audit import VerifyOut
from interfaces.web.pages import render
from projections.audit_log import audit_log

LOG_SHOWN = 50
HISTORY_SHOWN = 1000


def _state_json(state: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(state), indent=2).decode()


def _state(
    container: Container, principal: Principal, aggregate: str, stream_id: UUID, version: int | None
) -> dict[str, Any]:
    found = state_as_of(
        container.history,
        container.streams,
        principal.tenant_id,
        aggregate,
        stream_id,
        version=version,
    )
    return {"version": found.version, "at": found.recorded_at, "json": _state_json(found.state)}


def _record(
    aggregate: str,
    stream_id: UUID,
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
) -> Template:
    kind_named(aggregate)
    check_owned(container.history, principal.tenant_id, stream_id, aggregate)
    events = stream_page(container.datastore, stream_id, after_version=0, limit=HISTORY_SHOWN)
    return render(
        "audit/record.html",
        request,
        container,
        principal,
        current="audit",
        aggregate=aggregate,
        stream_id=stream_id,
        events=events,
        state=_state(container, principal, aggregate, stream_id, None),
    )


class AuditPages(Controller):
    path = "/dashboard/audit"
    include_in_schema = False

    @get("/", sync_to_thread=True, permission=Permission.AUDIT, every_store=True)
    def log(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Template:
        """The newest entries of the audit index, each linking to its record's history."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            entries = audit_log(curs, principal.tenant_id, limit=LOG_SHOWN, newest_first=True)
        return render(
            "audit/log.html",
            request,
            container,
            principal,
            current="audit",
            entries=entries,
            aggregates=sorted(kinds()),
        )

    @get("/record", sync_to_thread=True, permission=Permission.AUDIT, every_store=True)
    def find(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        aggregate: str,
        stream_id: UUID,
    ) -> Template:
        """The record form's target (aggregate + id): the record's history."""
        return _record(aggregate, stream_id, request, container, principal)

    @get(
        "/{aggregate:str}/{stream_id:uuid}",
        sync_to_thread=True,
        permission=Permission.AUDIT,
        every_store=True,
    )
    def record(
        self,
        aggregate: str,
        stream_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Template:
        """One record's events with their metadata and chain hashes, and its state."""
        return _record(aggregate, stream_id, request, container, principal)

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
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        version: Annotated[int | None, Parameter(ge=0)] = None,
    ) -> Template:
        """The state as of `version` (the slider's fragment)."""
        return render(
            "audit/_state.html",
            request,
            container,
            principal,
            current="audit",
            state=_state(container, principal, aggregate, stream_id, version),
        )

    @get("/verify", sync_to_thread=True, permission=Permission.AUDIT, every_store=True)
    def verify(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        stream: UUID | None = None,
    ) -> Template:
        """Checks the hash chain of one stream, or of every stream of the account."""
        if stream is not None:
            check_owned(container.history, principal.tenant_id, stream)
        with container.datastore.get_connection() as conn:
            result = verify(conn, stream_id=stream, tenant_id=principal.tenant_id)
        return render(
            "audit/_verified.html",
            request,
            container,
            principal,
            current="audit",
            result=VerifyOut(
                ok=result.ok,
                scope=f"this record ({stream})" if stream else "every stream of the account",
                events=result.events,
                streams=result.streams,
                breaks=result.breaks,
                first_bad=result.breaks[0] if result.breaks else None,
            ),
        )
