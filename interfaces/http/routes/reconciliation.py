"""Reconciliation, payout imports and their matching, AR ageing, CSV exports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import uuid4

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from msgspec.structs import astuple

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from domain.shared.money import Money
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import PayoutImportOut
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.money_support import csv_response, parse_date, utc_now
from interfaces.http.schemas import Page
from interfaces.http.support import Cursor, json_response, page_after
from projections import finance
from projections.finance import PayoutMatch


class ReconciliationController(Controller):
    path = "/v1"
    tags = ["money"]

    @get("/reconciliation", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def reconciliation(
        self,
        container: Container,
        principal: Principal,
        from_: Annotated[str | None, Parameter(query="from")] = None,
        to: str | None = None,
        store: str | None = None,
        format: str = "json",
    ) -> Response[bytes]:
        """Per order (placed in [from, to)) and in total per currency: ordered, shipped value,
        invoiced, tax, paid, refunded, outstanding, and every mismatch with its reason.
        `format=csv` exports it. A caller limited to some stores gets their stores' orders."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            report = finance.reconcile(
                curs,
                principal.tenant_id,
                placed_from=parse_date(from_, "from"),
                placed_to=parse_date(to, "to"),
                store=store,
                stores=principal.stores,
            )
        if format == "csv":
            money = list(finance.MONEY_FIELDS)
            return csv_response(
                (
                    [
                        o.order_id,
                        o.store,
                        o.currency,
                        *(getattr(o, field) for field in money),
                        "; ".join(f"{m.kind}: {m.detail}" for m in o.mismatches),
                    ]
                    for o in report.orders
                ),
                ["order_id", "store", "currency", *money, "mismatches"],
                "reconciliation",
            )
        return json_response(200, msgspec.json.encode(report))

    @get("/receivables/ageing", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def ageing(self, container: Container, principal: Principal) -> list[finance.AgeingBucket]:
        """Outstanding invoices by days past due: current, 1-30, 31-60, 61-90, 90+."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            return finance.ageing(curs, principal.tenant_id, utc_now(), principal.stores)

    @get("/exports/{name:str}", sync_to_thread=True, permission=Permission.EXPORTS)
    def export(self, name: str, container: Container, principal: Principal) -> Response[bytes]:
        """CSV of `invoices` or `payments` (payments and refunds), of the caller's stores."""
        now = utc_now()
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            if name == "invoices":
                rows = finance.list_invoices(
                    curs, principal.tenant_id, now=now, limit=1_000_000, stores=principal.stores
                )
                fields = list(finance.InvoiceRow.__struct_fields__)
                return csv_response(
                    ([*(getattr(r, f) for f in fields), r.status(now)] for r in rows),
                    [*fields, "status"],
                    "invoices",
                )
            if name == "payments":
                found = finance.payments(curs, principal.tenant_id, principal.stores)
                header = [
                    "id",
                    "kind",
                    "order_id",
                    "invoice_id",
                    "amount",
                    "currency",
                    "method",
                    "gateway",
                    "gateway_reference",
                    "at",
                ]
                return csv_response(([row[h] for h in header] for row in found), header, "payments")
        raise ApiProblem(404, "not_found", f"no export {name!r}; try invoices or payments")

    @post("/reconciliation/payouts", sync_to_thread=True, permission=Permission.FINANCE_WRITE)
    def import_payouts(
        self,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
        gateway: str = "stripe",
    ) -> Response[bytes]:
        """Imports a gateway payout CSV (`file`; columns type, reference, amount, currency;
        type is charge/payment or refund) and matches it with recorded payments and refunds."""
        upload = data.get("file")
        if upload is None:
            raise ApiProblem(422, "validation_failed", "upload the CSV as the form field 'file'")
        lines = _payout_lines(upload.file.read())
        import_id = uuid4()
        container.billing.save_payout_lines(principal.tenant_id, import_id, gateway, lines)
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            payout = finance.payout_import(curs, principal.tenant_id, import_id)
            matches = finance.payout_matches(curs, principal.tenant_id, payout, principal.stores)
        body = {"import_id": import_id, "items": matches}
        return json_response(201, msgspec.json.encode(body))

    @get("/reconciliation/payouts", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def payouts(
        self,
        container: Container,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=50)] = 20,
        cursor: str | None = None,
        format: str = "json",
    ) -> Response[bytes]:
        """Payout imports, newest first, each with its match results: counts per status and
        the lines that did not match (amount_differs, missing_in_kontor, missing_at_gateway).
        `format=csv` exports every match line of every import."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            if format == "csv":
                imports = finance.payout_imports(curs, principal.tenant_id, limit=1_000_000)
                rows = [
                    [payout.import_id, payout.gateway, payout.imported_at, *astuple(match)]
                    for payout in imports
                    for match in finance.payout_matches(
                        curs, principal.tenant_id, payout, principal.stores
                    )
                ]
                header = ["import_id", "gateway", "imported_at", *PayoutMatch.__struct_fields__]
                return csv_response(rows, header, "payouts")
            imports = finance.payout_imports(
                curs, principal.tenant_id, after=page_after(cursor), limit=limit + 1
            )
            page = [
                PayoutImportOut.of(
                    payout,
                    finance.payout_matches(curs, principal.tenant_id, payout, principal.stores),
                    scoped=principal.stores is not None,
                )
                for payout in imports[:limit]
            ]
        last = imports[limit - 1] if len(imports) > limit else None
        next_cursor = (
            Cursor.encode([last.imported_at.isoformat(), str(last.import_id)]) if last else None
        )
        return json_response(200, msgspec.json.encode(Page(page, next_cursor)))


def _payout_lines(raw: bytes) -> list[tuple[str, str, Decimal, str]]:
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        lines = []
        for number, row in enumerate(reader, start=2):
            kind = {"charge": "payment", "payment": "payment", "refund": "refund"}.get(
                (row.get("type") or "").strip().lower()
            )
            if kind is None or not row.get("reference"):
                raise ApiProblem(422, "invalid_payout_file", f"row {number}: bad type or reference")
            amount = Money.of(Decimal(row["amount"]), row["currency"].strip().upper())
            lines.append((kind, row["reference"].strip(), amount.amount, amount.currency))
    except (UnicodeDecodeError, KeyError, InvalidOperation, csv.Error, AttributeError) as error:
        raise ApiProblem(422, "invalid_payout_file", f"not a payout CSV: {error}") from error
    return lines
