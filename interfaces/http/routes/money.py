"""Money: invoices (list, detail, PDF, void, credit notes), payments, refunds, gateway webhooks,
billing configuration, reconciliation, payouts, AR ageing and CSV exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID, uuid4

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from adapters.payments.stripe import StripeGateway
from application.billing import InvoiceOn, StorePolicy, TenantBilling
from application.context import CommandContext
from application.invoices import NewPayment, PaymentResult, RefundResult
from application.payments import InvalidSignature, PaymentGateway
from application.ports import IdempotentWrite, StoredResponse
from application.tenants import Principal
from domain.invoice.pricing import TaxRounding
from domain.shared.money import Money
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import (
    BillingSettingsIn,
    CreditIn,
    ExemptionIn,
    FxRatesIn,
    InvoiceOut,
    InvoiceSummaryOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
    Saved,
    StorePolicyIn,
    TaxRateIn,
    VoidIn,
    WebhookOut,
    WebhookSecretIn,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import Page
from interfaces.http.support import Cursor, if_match, json_response, run_command
from projections import finance

Limit = Annotated[int, Parameter(ge=1, le=200)]
GATEWAYS: dict[str, PaymentGateway] = {"stripe": StripeGateway()}


def _now() -> datetime:
    return datetime.now(UTC)


def _invoice(loaded: Any) -> tuple[int, InvoiceOut, int]:
    return 200, InvoiceOut.of(loaded.state, loaded.version, _now()), loaded.version


def _remembered(ctx: CommandContext, body: object) -> IdempotentWrite | None:
    """The idempotency row a configuration write stores in its own transaction."""
    if ctx.idempotency is None:
        return None
    status, encoded, version = ctx.idempotency.render(body)
    return IdempotentWrite(
        ctx.tenant_id,
        ctx.idempotency.key,
        StoredResponse(ctx.idempotency.request_hash, status, encoded, version),
    )


def _save(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    data: object,
    what: str,
    write: Callable[[IdempotentWrite | None], None],
) -> Response[bytes]:
    def run(ctx: CommandContext) -> Saved:
        saved = Saved(what)
        write(_remembered(ctx, saved))
        return saved

    return run_command(request, container, principal, data, run, lambda s: (200, s, None))


def _csv(rows: Iterable[Iterable[Any]], header: list[str], name: str) -> Response[bytes]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue().encode(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ApiProblem(400, "invalid_date", f"{name} must be an RFC 3339 date or time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class InvoiceController(Controller):
    path = "/v1/invoices"
    tags = ["money"]

    @get("/", sync_to_thread=True)
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
        if status is not None and status not in finance.STATUS_SQL:
            choices = ", ".join(finance.STATUS_SQL)
            raise ApiProblem(400, "invalid_status", f"status must be one of {choices}")
        after = Cursor.decode(cursor)
        position = None
        if after is not None:
            try:
                position = (datetime.fromisoformat(after[0]), UUID(after[1]))
            except (ValueError, IndexError, TypeError) as error:
                raise ApiProblem(
                    400, "invalid_cursor", "the cursor is not one this API issued"
                ) from error
        now = _now()
        with container.datastore.transaction() as curs:
            rows = finance.list_invoices(
                curs,
                principal.tenant_id,
                now=now,
                status=status,
                store=store,
                issued_from=_date(from_, "from"),
                issued_to=_date(to, "to"),
                after=position,
                limit=limit + 1,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            InvoiceSummaryOut(
                r.id,
                r.number,
                r.status(now),
                r.store,
                r.order_id,
                Money(r.total, r.currency),
                Money(r.tax, r.currency),
                Money(r.balance, r.currency),
                r.issued_at,
                r.due_at,
            )
            for r in rows
        ]
        last = rows[-1] if more else None
        return Page(
            items, Cursor.encode([last.issued_at.isoformat(), str(last.id)]) if last else None
        )

    @get("/{ref:str}", sync_to_thread=True)
    def detail(self, ref: str, container: Container, principal: Principal) -> Response[bytes]:
        """One invoice folded from its stream (ETag = version); `{id}.pdf` renders the PDF."""
        wants_pdf = ref.endswith(".pdf")
        try:
            invoice_id = UUID(ref.removesuffix(".pdf"))
        except ValueError as error:
            raise ApiProblem(404, "invoice_not_found", f"no invoice {ref}") from error
        loaded = container.invoices.get(principal.tenant_id, invoice_id)
        if wants_pdf:
            from adapters.documents.pdf import invoice_pdf

            number = loaded.state.document.number
            return Response(
                invoice_pdf(loaded.state),
                media_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
            )
        status, body, version = _invoice(loaded)
        return json_response(status, msgspec.json.encode(body), version=version)

    @post("/{invoice_id:uuid}/void", sync_to_thread=True)
    def void(
        self,
        invoice_id: UUID,
        data: VoidIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Voids an unpaid invoice (If-Match honoured); a paid one needs a credit note."""
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.void(
                ctx, invoice_id, reason=data.reason, if_version=expected
            ),
            _invoice,
        )

    @post("/{invoice_id:uuid}/credit-notes", sync_to_thread=True)
    def credit(
        self,
        invoice_id: UUID,
        data: CreditIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """A correction credit note: lowers what the invoice asks for, moves no money."""
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.credit(
                ctx, invoice_id, amount=data.amount, reason=data.reason
            ),
            lambda loaded: (201, _invoice(loaded)[1], loaded.version),
        )


class PaymentController(Controller):
    path = "/v1/payments"
    tags = ["money"]

    @post("/", sync_to_thread=True)
    def record(
        self,
        data: PaymentIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Records a payment of an invoice (or of an order's oldest invoice still owing).
        The same gateway_reference again is the same payment: 200 with it, nothing new."""
        if (data.invoice_id is None) == (data.order_id is None):
            raise ApiProblem(422, "validation_failed", "give exactly one of invoice_id, order_id")
        new = NewPayment(
            invoice_id=data.invoice_id,
            order_id=data.order_id,
            amount=Money.of(data.amount, data.currency),
            method=data.method,
            gateway=data.gateway,
            gateway_reference=data.gateway_reference,
        )

        def render(result: PaymentResult) -> tuple[int, PaymentOut, int]:
            body = PaymentOut(result.payment_id, _invoice(result.invoice)[1])
            return (201 if result.created else 200), body, result.invoice.version

        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.record_payment(ctx, new),
            render,
        )


def _refund_out(result: RefundResult) -> tuple[int, RefundOut, None]:
    body = RefundOut(result.refund_id, result.amount, [_invoice(i)[1] for i in result.invoices])
    return (201 if result.created else 200), body, None


class RefundController(Controller):
    path = "/v1/orders"
    tags = ["money"]

    @post("/{order_id:uuid}/refunds", sync_to_thread=True)
    def refund(
        self,
        order_id: UUID,
        data: RefundIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Refunds `amount`, or what the given line quantities were billed, against the order's
        paid invoices (newest first), with a credit note each. Never more than was paid."""
        if (data.amount is None) == (data.lines is None):
            raise ApiProblem(422, "validation_failed", "give exactly one of amount, lines")
        lines = None
        if data.lines is not None:
            lines = {}
            for line in data.lines:
                lines[line.line_no] = lines.get(line.line_no, 0) + line.quantity
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.refund(
                ctx, order_id, reason=data.reason, amount=data.amount, lines=lines
            ),
            _refund_out,
        )


class WebhookController(Controller):
    path = "/v1/webhooks/payments"
    tags = ["money"]

    @post("/{gateway:str}")
    async def ingest(
        self,
        gateway: str,
        request: Request[Any, Any, Any],
        container: Container,
        tenant: Annotated[UUID, Parameter(query="tenant")],
    ) -> Response[bytes]:
        """A gateway's signed event (Stripe: payment_intent.succeeded, charge.refunded) for the
        tenant in `?tenant=`. A bad or missing signature is 401 and changes nothing; a replay
        answers `duplicate`."""
        adapter = GATEWAYS.get(gateway)
        if adapter is None:
            raise ApiProblem(404, "unknown_gateway", f"no payment gateway {gateway!r}")
        body = await request.body()
        return await anyio.to_thread.run_sync(
            _ingest, container, adapter, tenant, body, request.headers.get(adapter.signature_header)
        )


def _ingest(
    container: Container, adapter: PaymentGateway, tenant: UUID, body: bytes, header: str | None
) -> Response[bytes]:
    secret = container.billing.webhook_secret(tenant, adapter.name)
    try:
        if secret is None:
            raise InvalidSignature("no webhook secret is configured for this gateway")
        adapter.verify(header, body, secret)
    except InvalidSignature as error:
        raise ApiProblem(401, "invalid_signature", str(error)) from error
    event = adapter.parse(body)
    ctx = CommandContext(tenant_id=tenant, actor=f"webhook:{adapter.name}", request_id=event.id)
    status = "ignored"
    if event.kind == "payment":
        paid = container.invoices.record_payment(
            ctx,
            NewPayment(
                invoice_id=event.invoice_id,
                order_id=event.order_id,
                amount=Money.of(event.amount, event.currency),
                method="card",
                gateway=adapter.name,
                gateway_reference=event.reference,
            ),
        )
        status = "recorded" if paid.created else "duplicate"
    elif event.kind == "refund":
        order_id = event.order_id or _order_of_payment(container, tenant, adapter.name, event)
        refunded = container.invoices.refund(
            ctx,
            order_id,
            reason=f"{adapter.name} refund",
            amount=event.amount,
            gateway=adapter.name,
            gateway_reference=event.id,
        )
        status = "recorded" if refunded.created else "duplicate"
    return json_response(200, msgspec.json.encode(WebhookOut(status, event.id)))


def _order_of_payment(container: Container, tenant: UUID, gateway: str, event: Any) -> UUID:
    from application.invoices import payment_id
    from application.kinds import PAYMENT

    if event.payment_reference is None:
        raise ApiProblem(422, "unknown_payment", "the refund names no payment")
    pid = payment_id(tenant, gateway, event.payment_reference)
    receipt = container.streams.load({pid: PAYMENT})[pid]
    if not receipt.owned_by(tenant) or receipt.state.payment is None:
        raise ApiProblem(422, "unknown_payment", f"no payment {event.payment_reference}")
    order_id: UUID = receipt.state.payment.order_id
    return order_id


class BillingController(Controller):
    path = "/v1/billing"
    tags = ["money"]

    @post("/settings", sync_to_thread=True)
    def settings(
        self,
        data: BillingSettingsIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """The tenant's base currency (invoices carry their rate to it) and merchant name."""
        value = TenantBilling(base_currency=data.base_currency, merchant_name=data.merchant_name)
        return _save(
            request,
            container,
            principal,
            data,
            "settings",
            lambda idem: container.billing.set_tenant(principal.tenant_id, value, idem),
        )

    @post("/stores/{store:str}", sync_to_thread=True)
    def store_policy(
        self,
        store: str,
        data: StorePolicyIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """A store's invoicing: on shipment (default) or on order, tax-inclusive prices, tax
        rounding per line or per invoice, payment terms."""
        policy = StorePolicy(
            invoice_on=InvoiceOn(data.invoice_on),
            prices_include_tax=data.prices_include_tax,
            tax_rounding=TaxRounding(data.tax_rounding),
            payment_terms_days=data.payment_terms_days,
        )
        return _save(
            request,
            container,
            principal,
            data,
            "store_policy",
            lambda idem: container.billing.set_store_policy(
                principal.tenant_id, store, policy, idem
            ),
        )

    @get("/{table:str}", sync_to_thread=True)
    def listing(
        self, table: str, container: Container, principal: Principal
    ) -> list[dict[str, Any]]:
        """Configured `tax-rates`, `fx-rates`, `stores` or `tax-exemptions`."""
        tables = {
            "tax-rates": "tax_rates",
            "fx-rates": "fx_rates",
            "stores": "store_billing",
            "tax-exemptions": "tax_exemptions",
        }
        if table not in tables:
            raise ApiProblem(404, "not_found", f"no billing list {table!r}")
        return container.billing.listing(tables[table], principal.tenant_id)

    @post("/tax-rates", sync_to_thread=True)
    def tax_rate(
        self,
        data: TaxRateIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sets the rate of a country, or of a state/region within it."""
        if not Decimal(0) <= data.rate <= Decimal(1):
            raise ApiProblem(422, "validation_failed", "rate is a fraction from 0 to 1")
        return _save(
            request,
            container,
            principal,
            data,
            "tax_rate",
            lambda idem: container.billing.set_tax_rate(
                principal.tenant_id, data.country, data.region, data.rate, idem
            ),
        )

    @post("/fx-rates", sync_to_thread=True)
    def fx_rates(
        self,
        data: FxRatesIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Loads exchange rates (1 currency = rate base currency, valid from a moment)."""
        if any(not r.rate.is_finite() or r.rate <= 0 for r in data.rates):
            raise ApiProblem(422, "validation_failed", "every rate must be positive")
        base = container.billing.tenant(principal.tenant_id).base_currency
        rows = [(r.currency, r.base_currency or base, r.valid_from, r.rate) for r in data.rates]
        return _save(
            request,
            container,
            principal,
            data,
            "fx_rates",
            lambda idem: container.billing.set_fx_rates(principal.tenant_id, rows, idem),
        )

    @post("/tax-exemptions", sync_to_thread=True)
    def exemption(
        self,
        data: ExemptionIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Marks a customer (by email) tax exempt, with the reason printed on invoices."""
        return _save(
            request,
            container,
            principal,
            data,
            "tax_exemption",
            lambda idem: container.billing.set_exemption(
                principal.tenant_id, data.email, data.reason, idem
            ),
        )

    @post("/webhook-secrets", sync_to_thread=True)
    def webhook_secret(
        self,
        data: WebhookSecretIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Sets the secret a gateway signs this tenant's webhooks with (never shown again)."""
        return _save(
            request,
            container,
            principal,
            {"gateway": data.gateway, "secret": "*"},
            "webhook_secret",
            lambda idem: container.billing.set_webhook_secret(
                principal.tenant_id, data.gateway, data.secret, idem
            ),
        )


class ReconciliationController(Controller):
    path = "/v1"
    tags = ["money"]

    @get("/reconciliation", sync_to_thread=True)
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
        `format=csv` exports it."""
        with container.datastore.transaction() as curs:
            report = finance.reconcile(
                curs,
                principal.tenant_id,
                placed_from=_date(from_, "from"),
                placed_to=_date(to, "to"),
                store=store,
            )
        if format == "csv":
            return _csv(
                (
                    [
                        o.order_id,
                        o.store,
                        o.currency,
                        o.ordered,
                        o.shipped_value,
                        o.invoiced,
                        o.tax,
                        o.paid,
                        o.refunded,
                        o.outstanding,
                        "; ".join(f"{m.kind}: {m.detail}" for m in o.mismatches),
                    ]
                    for o in report.orders
                ),
                [
                    "order_id",
                    "store",
                    "currency",
                    "ordered",
                    "shipped_value",
                    "invoiced",
                    "tax",
                    "paid",
                    "refunded",
                    "outstanding",
                    "mismatches",
                ],
                "reconciliation",
            )
        return json_response(200, msgspec.json.encode(report))

    @get("/receivables/ageing", sync_to_thread=True)
    def ageing(self, container: Container, principal: Principal) -> list[finance.AgeingBucket]:
        """Outstanding invoices by days past due: current, 1-30, 31-60, 61-90, 90+."""
        with container.datastore.transaction() as curs:
            return finance.ageing(curs, principal.tenant_id, _now())

    @get("/exports/{name:str}", sync_to_thread=True)
    def export(self, name: str, container: Container, principal: Principal) -> Response[bytes]:
        """CSV of `invoices` or `payments` (payments and refunds)."""
        now = _now()
        with container.datastore.transaction() as curs:
            if name == "invoices":
                rows = finance.list_invoices(curs, principal.tenant_id, now=now, limit=1_000_000)
                fields = list(finance.InvoiceRow.__struct_fields__)
                return _csv(
                    ([*(getattr(r, f) for f in fields), r.status(now)] for r in rows),
                    [*fields, "status"],
                    "invoices",
                )
            if name == "payments":
                found = finance.payments(curs, principal.tenant_id)
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
                return _csv(([row[h] for h in header] for row in found), header, "payments")
        raise ApiProblem(404, "not_found", f"no export {name!r}; try invoices or payments")

    @post("/reconciliation/payouts", sync_to_thread=True)
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
        container.billing.save_payout_lines(principal.tenant_id, uuid4(), lines)
        with container.datastore.transaction() as curs:
            matches = finance.match_payouts(curs, principal.tenant_id, gateway, lines)
        return json_response(201, msgspec.json.encode({"items": matches}))


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
