"""Payments, refunds, an order's billing, and payment gateways' signed webhooks."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from adapters.payments.stripe import StripeGateway
from application.access import Permission, Principal
from application.context import CommandContext
from application.invoices import NewPayment, PaymentResult, RefundResult
from application.payments import InvalidSignature, PaymentGateway
from domain.shared.money import Money
from interfaces.bootstrap import Container
from interfaces.http.money_schemas import (
    OrderBillingOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
    WebhookOut,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.routes.money_support import invoice_response, utc_now
from interfaces.http.scope import order_in_scope
from interfaces.http.support import json_response, run_command

GATEWAYS: dict[str, PaymentGateway] = {"stripe": StripeGateway()}


class PaymentController(Controller):
    path = "/v1/payments"
    tags = ["money"]

    @post("/", sync_to_thread=True, permission=Permission.FINANCE_WRITE)
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

        def render(result: PaymentResult) -> tuple[int, PaymentOut, int | None]:
            invoices = [invoice_response(i)[1] for i in result.invoices]
            account = result.account
            credit = None
            if account is not None:
                credit = Money(account.state.credit, data.currency)
            body = PaymentOut(
                result.payment_id, invoices[0] if invoices else None, invoices, credit
            )
            version = result.invoices[0].version if len(result.invoices) == 1 else None
            return (201 if result.created else 200), body, version

        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.invoices.record_payment(ctx, new),
            render,
        )


def _refund_out(result: RefundResult) -> tuple[int, RefundOut, None]:
    body = RefundOut(
        result.refund_id, result.amount, [invoice_response(i)[1] for i in result.invoices]
    )
    return (201 if result.created else 200), body, None


class OrderMoneyController(Controller):
    path = "/v1/orders"
    tags = ["money"]

    @get("/{order_id:uuid}/billing", sync_to_thread=True, permission=Permission.FINANCE_READ)
    def billing(
        self, order_id: UUID, container: Container, principal: Principal
    ) -> OrderBillingOut:
        """The order's invoices, payments, refunds, held credit (prepayments not yet taken by
        an invoice), outstanding and overpaid amounts, from the event store."""
        order_in_scope(container, principal, order_id)
        return OrderBillingOut.of(
            container.invoices.billing(principal.tenant_id, order_id), utc_now()
        )

    @post("/{order_id:uuid}/refunds", sync_to_thread=True, permission=Permission.FINANCE_WRITE)
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
        order_in_scope(container, principal, order_id)
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

    @post("/{gateway:str}", permission=Permission.PUBLIC)
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
        if event.refunds:
            created = [
                container.invoices.refund(
                    ctx,
                    order_id,
                    reason=f"{adapter.name} refund",
                    amount=refund.amount,
                    gateway=adapter.name,
                    gateway_reference=refund.reference,
                ).created
                for refund in event.refunds
            ]
        elif event.payment_reference is not None:
            created = [
                container.invoices.refund(
                    ctx,
                    order_id,
                    reason=f"{adapter.name} refund",
                    gateway=adapter.name,
                    gateway_reference=event.id,
                    reported=(event.payment_reference, event.amount),
                ).created
            ]
        else:
            raise ApiProblem(422, "unknown_payment", "the refund lists no refunds and no payment")
        status = "recorded" if any(created) else "duplicate"
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
