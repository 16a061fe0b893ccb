"""Use cases for invoices, payments and refunds. Each appends every stream it touches (invoice,
number series, billing account, payment) in one executor call: all or nothing, retried on
conflicts, so numbers stay gapless and nothing is recorded twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.billing import BillingConfig
from application.context import CommandContext
from application.errors import check_version
from application.executor import Executor, Outcome
from application.kinds import BILLING_ACCOUNT, INVOICE, INVOICE_SERIES, ORDER, PAYMENT
from application.streams import Kind, Loaded, Streams
from domain.invoice import decide
from domain.invoice.errors import InvoiceNotFound, NothingToInvoice
from domain.invoice.events import Jurisdiction
from domain.invoice.pricing import TaxPolicy
from domain.invoice.state import Invoice
from domain.order.errors import OrderNotFound
from domain.order.state import Order
from domain.shared.events import DomainEvent
from domain.shared.ids import stream_id
from domain.shared.money import Money


def invoice_id_for_shipment(tenant_id: UUID, shipment_id: UUID) -> UUID:
    return stream_id(tenant_id, "invoice", "shipment", str(shipment_id))


def invoice_id_for_order(tenant_id: UUID, order_id: UUID) -> UUID:
    return stream_id(tenant_id, "invoice", "order", str(order_id))


def series_id(tenant_id: UUID, series: str) -> UUID:
    return stream_id(tenant_id, "invoice-series", series)


def account_id(tenant_id: UUID, order_id: UUID) -> UUID:
    return stream_id(tenant_id, "billing-account", str(order_id))


def payment_id(tenant_id: UUID, gateway: str, reference: str) -> UUID:
    return stream_id(tenant_id, "payment", gateway, reference)


def refund_id(tenant_id: UUID, gateway: str, reference: str) -> UUID:
    return stream_id(tenant_id, "refund", gateway, reference)


def invoice_series(store: str) -> str:
    return store.upper()


def credit_note_series(store: str) -> str:
    return f"CN-{store.upper()}"


class NewPayment(msgspec.Struct, frozen=True, kw_only=True):
    invoice_id: UUID | None = None
    order_id: UUID | None = None
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime | None = None


class PaymentResult(msgspec.Struct, frozen=True):
    payment_id: UUID
    invoice: Loaded[Invoice]
    created: bool


class RefundResult(msgspec.Struct, frozen=True):
    refund_id: UUID
    amount: Money
    invoices: list[Loaded[Invoice]]
    created: bool


class InvoiceCommands:
    def __init__(self, executor: Executor, streams: Streams, config: BillingConfig) -> None:
        self.executor = executor
        self.streams = streams
        self.config = config

    # --- reads -------------------------------------------------------------------------------

    def get(self, tenant_id: UUID, invoice_id: UUID) -> Loaded[Invoice]:
        loaded = self.streams.load({invoice_id: INVOICE})[invoice_id]
        if not loaded.owned_by(tenant_id):
            raise InvoiceNotFound(f"no invoice {invoice_id}")
        return loaded

    def of_order(self, tenant_id: UUID, order_id: UUID) -> list[Loaded[Invoice]]:
        account = self.streams.load({account_id(tenant_id, order_id): BILLING_ACCOUNT})
        ids = next(iter(account.values())).state.invoices
        loaded = self.streams.load(dict.fromkeys(ids, INVOICE))
        return [loaded[i] for i in ids if loaded[i].owned_by(tenant_id)]

    # --- issuing -----------------------------------------------------------------------------

    def issue(
        self,
        ctx: CommandContext,
        order_id: UUID,
        *,
        shipment_id: UUID | None = None,
        quantities: dict[int, int] | None = None,
        now: datetime | None = None,
    ) -> Loaded[Invoice]:
        """Issues the invoice of a shipment (or of the whole order when `shipment_id` is None).
        Issuing the same one again returns it unchanged."""
        tenant = ctx.tenant_id
        order = self.streams.load({order_id: ORDER})[order_id]
        if not order.owned_by(tenant):
            raise OrderNotFound(f"no order {order_id}")
        state: Order = order.state
        assert state.shipping_address is not None
        assert state.customer is not None
        invoice_id = (
            invoice_id_for_shipment(tenant, shipment_id)
            if shipment_id is not None
            else invoice_id_for_order(tenant, order_id)
        )
        issued_at = now or datetime.now(UTC)
        policy = self.config.store_policy(tenant, state.store)
        settings = self.config.tenant(tenant)
        address = state.shipping_address
        command = decide.IssueInvoice(
            invoice_id=invoice_id,
            shipment_id=shipment_id,
            quantities=quantities,
            series=invoice_series(state.store),
            merchant=settings.merchant_name,
            tax=TaxPolicy(
                rate=self.config.tax_rate(tenant, address.country, address.region),
                prices_include_tax=policy.prices_include_tax,
                rounding=policy.tax_rounding,
            ),
            jurisdiction=Jurisdiction(address.country, address.region),
            exempt_reason=self.config.exemption(tenant, state.customer.email),
            base_currency=settings.base_currency,
            fx_rate=self.config.fx_rate(tenant, state.currency, settings.base_currency, issued_at),
            payment_terms_days=policy.payment_terms_days,
            issued_at=issued_at,
        )
        series = series_id(tenant, command.series)
        account = account_id(tenant, order_id)
        kinds: dict[UUID, Kind[Any]] = {
            invoice_id: INVOICE,
            order_id: ORDER,
            account: BILLING_ACCOUNT,
            series: INVOICE_SERIES,
        }

        def decide_issue(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Invoice]]:
            issued = decide.issue(
                loaded[invoice_id].state,
                loaded[order_id].state,
                loaded[account].state,
                loaded[series].state,
                command,
            )
            events: dict[UUID, list[DomainEvent]] = {
                invoice_id: list(issued.invoice),
                series: list(issued.series),
                account: list(issued.account),
            }
            return Outcome(events, lambda after: after[invoice_id])

        return self.executor.execute(ctx, kinds, decide_issue)

    # --- payments ----------------------------------------------------------------------------

    def record_payment(self, ctx: CommandContext, new: NewPayment) -> PaymentResult:
        tenant = ctx.tenant_id
        pid = payment_id(tenant, new.gateway, new.gateway_reference)
        existing = self.streams.load({pid: PAYMENT})[pid]
        if existing.owned_by(tenant) and existing.state.payment is not None:
            invoice = self.get(tenant, existing.state.payment.invoice_id)
            return PaymentResult(pid, invoice, created=False)
        invoice_id = new.invoice_id or self._invoice_to_pay(tenant, new.order_id)
        self.get(tenant, invoice_id)
        command = decide.RecordPayment(
            payment_id=pid,
            amount=new.amount,
            method=new.method,
            gateway=new.gateway,
            gateway_reference=new.gateway_reference,
            received_at=new.received_at or datetime.now(UTC),
        )

        def decide_payment(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[PaymentResult]:
            paid = decide.record_payment(loaded[invoice_id].state, loaded[pid].state, command)
            created = bool(paid.payment)
            return Outcome(
                {pid: list(paid.payment), invoice_id: list(paid.invoice)},
                lambda after: PaymentResult(pid, after[invoice_id], created),
            )

        return self.executor.execute(ctx, {pid: PAYMENT, invoice_id: INVOICE}, decide_payment)

    def _invoice_to_pay(self, tenant_id: UUID, order_id: UUID | None) -> UUID:
        """An order's oldest invoice still owing, else its newest one (which then shows the
        overpayment)."""
        if order_id is None:
            raise InvoiceNotFound("name the invoice_id or the order_id the payment is for")
        invoices = [i for i in self.of_order(tenant_id, order_id) if i.state.voided is None]
        if not invoices:
            raise NothingToInvoice(
                f"order {order_id} has no invoice yet; record the payment once it is invoiced"
            )
        owing = [i for i in invoices if i.state.balance > 0]
        chosen = owing[0] if owing else invoices[-1]
        return chosen.state.document.invoice_id

    # --- refunds, credit notes, voiding ------------------------------------------------------

    def refund(
        self,
        ctx: CommandContext,
        order_id: UUID,
        *,
        reason: str,
        amount: Decimal | None = None,
        lines: dict[int, int] | None = None,
        gateway: str | None = None,
        gateway_reference: str | None = None,
        now: datetime | None = None,
    ) -> RefundResult:
        tenant = ctx.tenant_id
        order = self.streams.load({order_id: ORDER})[order_id]
        if not order.owned_by(tenant):
            raise OrderNotFound(f"no order {order_id}")
        currency = order.state.currency
        rid = (
            refund_id(tenant, gateway, gateway_reference)
            if gateway is not None and gateway_reference is not None
            else uuid4()
        )
        account = account_id(tenant, order_id)
        invoice_ids = self.streams.load({account: BILLING_ACCOUNT})[account].state.invoices
        series = series_id(tenant, credit_note_series(order.state.store))
        kinds: dict[UUID, Kind[Any]] = {rid: PAYMENT, series: INVOICE_SERIES}
        kinds[account] = BILLING_ACCOUNT
        kinds.update(dict.fromkeys(invoice_ids, INVOICE))
        at = now or datetime.now(UTC)

        def decide_refund(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[RefundResult]:
            if loaded[account].state.invoices != invoice_ids:
                raise _AccountMoved()
            invoices = [loaded[i].state for i in invoice_ids]
            value = (
                decide.refund_for_lines(invoices, lines, currency)
                if lines
                else Money.of(amount if amount is not None else Decimal(0), currency)
            )
            refunded = decide.refund(
                invoices,
                loaded[rid].state,
                loaded[series].state,
                credit_note_series(order.state.store),
                decide.Refund(
                    refund_id=rid,
                    order_id=order_id,
                    amount=value,
                    reason=reason,
                    gateway=gateway,
                    gateway_reference=gateway_reference,
                    refunded_at=at,
                ),
            )
            events: dict[UUID, list[DomainEvent]] = {
                rid: list(refunded.refund),
                series: list(refunded.series),
            }
            for invoice_id, notes in refunded.invoices.items():
                events[invoice_id] = list(notes)
            created = bool(refunded.refund)

            def result(after: Mapping[UUID, Loaded[Any]]) -> RefundResult:
                recorded = after[rid].state.refund
                return RefundResult(
                    rid,
                    recorded.amount if recorded else value,
                    [after[i] for i in invoice_ids],
                    created,
                )

            return Outcome(events, result)

        try:
            return self.executor.execute(ctx, kinds, decide_refund)
        except _AccountMoved:  # an invoice was issued meanwhile: decide again, with it
            return self.refund(
                ctx,
                order_id,
                reason=reason,
                amount=amount,
                lines=lines,
                gateway=gateway,
                gateway_reference=gateway_reference,
                now=now,
            )

    def credit(
        self, ctx: CommandContext, invoice_id: UUID, *, amount: Decimal, reason: str
    ) -> Loaded[Invoice]:
        current = self.get(ctx.tenant_id, invoice_id).state.document
        series = series_id(ctx.tenant_id, credit_note_series(current.store))
        note_id = uuid4()

        def decide_credit(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Invoice]]:
            notes, numbers = decide.credit(
                loaded[invoice_id].state,
                loaded[series].state,
                credit_note_series(current.store),
                credit_note_id=note_id,
                amount=Money.of(amount, current.currency),
                reason=reason,
                now=datetime.now(UTC),
            )
            return Outcome(
                {invoice_id: list(notes), series: list(numbers)}, lambda a: a[invoice_id]
            )

        return self.executor.execute(
            ctx, {invoice_id: INVOICE, series: INVOICE_SERIES}, decide_credit
        )

    def void(
        self, ctx: CommandContext, invoice_id: UUID, *, reason: str, if_version: int | None = None
    ) -> Loaded[Invoice]:
        self.get(ctx.tenant_id, invoice_id)

        def decide_void(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Invoice]]:
            current = loaded[invoice_id]
            check_version(if_version, current.version, f"invoice {invoice_id}")
            events = decide.void(current.state, reason=reason, now=datetime.now(UTC))
            return Outcome({invoice_id: list(events)}, lambda a: a[invoice_id])

        return self.executor.execute(ctx, {invoice_id: INVOICE}, decide_void)


class _AccountMoved(Exception):
    """An invoice was issued for the order while a refund was being decided: decide again."""
