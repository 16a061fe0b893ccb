"""Invoices: list, detail, PDF, void, re-issue, correction credit notes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import CreditIn, InvoiceSummaryOut, VoidIn
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.money_support import (
    Limit,
    invoice_response,
    parse_date,
    utc_now,
)
from interfaces.http.schemas import Page
from interfaces.http.scope import invoice_in_scope
from interfaces.http.support import (
    if_match,
    json_response,
    page_after,
    page_of,
    run_command,
)
from projections import finance


def invoices_page(
    container: Container,
    principal: Principal,
    *,
    status: str | None,
    store: str | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    limit: int,
    cursor: str | None,
    stores: frozenset[str] | None,
) -> Page[InvoiceSummaryOut]:
    """One page of invoices, newest first (the route below and the dashboard's Finance page);
    `stores`: those the caller may see (None: all)."""
    if status is not None and status not in finance.STATUS_SQL:
        choices = ", ".join(finance.STATUS_SQL)
        raise ApiProblem(400, "invalid_status", f"status must be one of {choices}")
    now = utc_now()
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        rows = finance.list_invoices(
            curs,
            principal.tenant_id,
            now=now,
            status=status,
            store=store,
            issued_from=issued_from,
            issued_to=issued_to,
            after=page_after(cursor),
            limit=limit + 1,
            stores=stores,
        )
    return page_of(
        rows,
        limit,
        lambda last: [last.issued_at.isoformat(), str(last.id)],
        lambda row: InvoiceSummaryOut.from_row(row, now),
    )


class InvoiceController(Controller):
    path = "/v1/invoices"
    tags = ["money"]

    @get("/", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def list(
        self,
        container: Container,
        principal: Principal,
        status: str | None = None,
        store: str | None = None,
        from_: Annotated[str | None, Parameter(query="from")] = None,
        to: str | None = None,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[InvoiceSummaryOut]:
        """Invoices, newest first (read model), by status, store and issue date [from, to)."""
        return invoices_page(
            container,
            principal,
            status=status,
            store=store,
            issued_from=parse_date(from_, "from"),
            issued_to=parse_date(to, "to"),
            limit=limit,
            cursor=cursor,
            stores=principal.stores,
        )

    @get("/{ref:str}", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def detail(self, ref: str, container: Container, principal: Principal) -> Response[bytes]:
        """One invoice folded from its stream (ETag = version); `{id}.pdf` renders the PDF."""
        wants_pdf = ref.endswith(".pdf")
        try:
            invoice_id = UUID(ref.removesuffix(".pdf"))
        except ValueError as error:
            raise ApiProblem(404, "invoice_not_found", f"no invoice {ref}") from error
        loaded = container.invoices.get(principal.tenant_id, invoice_id)
        if not principal.sees(loaded.state.document.store):
            raise ApiProblem(404, "invoice_not_found", f"no invoice {ref}")
        if wants_pdf:
            from adapters.documents.pdf import invoice_pdf

            number = loaded.state.document.number
            return Response(
                invoice_pdf(loaded.state),
                media_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
            )
        status, body, version = invoice_response(loaded)
        return json_response(status, msgspec.json.encode(body), version=version)

    @post("/{invoice_id:uuid}/void", sync_to_thread=True, permission=Permission.FINANCE_WRITE)
    def void(
        self,
        invoice_id: UUID,
        data: VoidIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Voids an unpaid invoice (If-Match honoured); a paid one needs a credit note."""
        invoice_in_scope(container, principal, invoice_id)
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.void(
                ctx, invoice_id, reason=data.reason, if_version=expected
            ),
            invoice_response,
        )

    @post("/{invoice_id:uuid}/reissue", sync_to_thread=True, permission=Permission.FINANCE_WRITE)
    def reissue(
        self,
        invoice_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Issues what a voided invoice billed again, with the next number (same shipment).
        Retrying returns the same new invoice."""
        invoice_in_scope(container, principal, invoice_id)
        return run_command(
            request,
            container,
            principal,
            {"reissue": str(invoice_id)},
            lambda ctx: container.invoices.reissue(ctx, invoice_id),
            lambda loaded: (201, invoice_response(loaded)[1], loaded.version),
        )

    @post(
        "/{invoice_id:uuid}/credit-notes", sync_to_thread=True, permission=Permission.FINANCE_WRITE
    )
    def credit(
        self,
        invoice_id: UUID,
        data: CreditIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """A correction credit note: lowers what the invoice asks for, moves no money."""
        invoice_in_scope(container, principal, invoice_id)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.credit(
                ctx, invoice_id, amount=data.amount, reason=data.reason
            ),
            lambda loaded: (201, invoice_response(loaded)[1], loaded.version),
        )
