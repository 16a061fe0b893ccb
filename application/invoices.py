"""Use cases for invoices, payments and refunds. Each appends every stream it touches (invoice,
number series, billing account, payment) in one executor call: all or nothing, retried on
conflicts, so numbers stay gapless and nothing is recorded twice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4, uuid5

import msgspec

from application.billing import BillingConfig
from application.context import CommandContext
from application.errors import check_version
from application.executor import Executor, Outcome
from application.kinds import BILLING_ACCOUNT, INVOICE, INVOICE_SERIES, ORDER, PAYMENT
from application.streams import Kind, Loaded, Streams
from domain.invoice import decide
from domain.invoice.errors import InvoiceNotFound
from domain.invoice.events import Jurisdiction
from domain.invoice.pricing import TaxPolicy
from domain.invoice.state import Account, Invoice
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


def reissued_id(voided_invoice_id: UUID) -> UUID:
    """A voided invoice is issued again under this id: retrying a re-issue finds the same
    invoice, and the original id stays with the voided one (a replayed shipment issues
    nothing)."""
    return uuid5(voided_invoice_id, "reissue")


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


R = TypeVar("R")


class PaymentResult(msgspec.Struct, frozen=True):
    """The invoices the payment went to (none for a prepayment) and the order's account, whose
    credit holds the rest."""

    payment_id: UUID
    invoices: list[Loaded[Invoice]]
    account: Loaded[Account] | None
    created: bool


class OrderBilling(msgspec.Struct, frozen=True):
    order_id: UUID
    currency: str
    account: Account
    invoices: list[Loaded[Invoice]]


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

    def billing(self, tenant_id: UUID, order_id: UUID) -> OrderBilling:
        """An order's invoices and held credit, from their streams (never lagging)."""
        order = self._order(tenant_id, order_id)
        account = account_id(tenant_id, order_id)
        state: Account = self.streams.load({account: BILLING_ACCOUNT})[account].state
        return OrderBilling(order_id, order.currency, state, self.of_order(tenant_id, order_id))

    def _order(self, tenant_id: UUID, order_id: UUID) -> Order:
        order = self.streams.load({order_id: ORDER})[order_id]
        if not order.owned_by(tenant_id):
            raise OrderNotFound(f"no order {order_id}")
        state: Order = order.state
        return state

    def _over_account(
        self,
        ctx: CommandContext,
        order_id: UUID,
        more: Mapping[UUID, Kind[Any]],
        decide_with: Callable[[Mapping[UUID, Loaded[Any]], list[UUID], UUID], Outcome[R]],
    ) -> R:
        """Runs a command over an order, its billing account and every invoice of it (plus
        `more` streams), in one append. An invoice issued meanwhile changes the set of streams:
        then it decides again, with that invoice."""
        account = account_id(ctx.tenant_id, order_id)
        while True:
            invoice_ids = self.streams.load({account: BILLING_ACCOUNT})[account].state.invoices
            kinds: dict[UUID, Kind[Any]] = {order_id: ORDER, account: BILLING_ACCOUNT, **more}
            kinds.update(dict.fromkeys(invoice_ids, INVOICE))

            def decide_once(
                loaded: Mapping[UUID, Loaded[Any]], invoice_ids: list[UUID] = invoice_ids
            ) -> Outcome[R]:
                if loaded[account].state.invoices != invoice_ids:
                    raise _AccountMoved()
                return decide_with(loaded, invoice_ids, account)

            try:
                return self.executor.execute(ctx, kinds, decide_once)
            except _AccountMoved:
                continue

    # --- issuing -----------------------------------------------------------------------------

    def issue(
        self,
        ctx: CommandContext,
        order_id: UUID,
        *,
        shipment_id: UUID | None = None,
        quantities: dict[int, int] | None = None,
        now: datetime | None = None,
        invoice_id: UUID | None = None,
    ) -> Loaded[Invoice]:
        """Issues the invoice of a shipment (or of the whole order when `shipment_id` is None),
        paid at once from the order's held credit. Issuing the same one again returns it
        unchanged."""
        tenant = ctx.tenant_id
        state = self._order(tenant, order_id)
        assert state.shipping_address is not None
        assert state.customer is not None
        if invoice_id is None:
            invoice_id = (
                invoice_id_for_shipment(tenant, shipment_id)
                if shipment_id is not None
                else invoice_id_for_order(tenant, order_id)
            )
        issued_at = now or datetime.now(UTC)
        address = state.shipping_address
        terms = self.config.issue_terms(
            tenant,
            store=state.store,
            country=address.country,
            region=address.region,
            customer_email=state.customer.email,
            currency=state.currency,
            at=issued_at,
        )
        command = decide.IssueInvoice(
            invoice_id=invoice_id,
            shipment_id=shipment_id,
            quantities=quantities,
            series=invoice_series(state.store),
            merchant=terms.tenant.merchant_name,
            tax=TaxPolicy(
                rate=terms.tax_rate,
                prices_include_tax=terms.policy.prices_include_tax,
                rounding=terms.policy.tax_rounding,
            ),
            jurisdiction=Jurisdiction(address.country, address.region),
            exempt_reason=terms.exemption,
            base_currency=terms.tenant.base_currency,
            fx_rate=terms.fx_rate,
            payment_terms_days=terms.policy.payment_terms_days,
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

        new_id = invoice_id

        def decide_issue(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Invoice]]:
            issued = decide.issue(
                loaded[new_id].state,
                loaded[order_id].state,
                loaded[account].state,
                loaded[series].state,
                command,
            )
            events: dict[UUID, list[DomainEvent]] = {
                new_id: list(issued.invoice),
                series: list(issued.series),
                account: list(issued.account),
            }
            return Outcome(events, lambda after: after[new_id])

        return self.executor.execute(ctx, kinds, decide_issue)

    def reissue(self, ctx: CommandContext, voided_id: UUID) -> Loaded[Invoice]:
        """Issues what a voided invoice billed again, with a new number (same shipment)."""
        voided = self.get(ctx.tenant_id, voided_id).state
        quantities = decide.reissue_quantities(voided)
        document = voided.document
        return self.issue(
            ctx,
            document.order_id,
            shipment_id=document.shipment_id,
            quantities=quantities,
            invoice_id=reissued_id(voided_id),
        )

    # --- payments ----------------------------------------------------------------------------

    def record_payment(self, ctx: CommandContext, new: NewPayment) -> PaymentResult:
        """Pays the named invoice, or the order's invoices still owing with the rest held as
        the order's credit. The same gateway reference again is the same payment."""
        tenant = ctx.tenant_id
        pid = payment_id(tenant, new.gateway, new.gateway_reference)
        existing = self.streams.load({pid: PAYMENT})[pid]
        if existing.owned_by(tenant) and existing.state.payment is not None:
            recorded = existing.state.payment
            return self._payment_result(tenant, pid, recorded.order_id, recorded.invoice_id)
        command = decide.RecordPayment(
            payment_id=pid,
            amount=new.amount,
            method=new.method,
            gateway=new.gateway,
            gateway_reference=new.gateway_reference,
            received_at=new.received_at or datetime.now(UTC),
        )
        if new.invoice_id is None:
            if new.order_id is None:
                raise InvoiceNotFound("name the invoice_id or the order_id the payment is for")
            return self._pay_order(ctx, new.order_id, command)
        invoice_id = new.invoice_id
        self.get(tenant, invoice_id)

        def decide_payment(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[PaymentResult]:
            paid = decide.record_payment(loaded[invoice_id].state, loaded[pid].state, command)
            created = bool(paid.payment)
            return Outcome(
                {pid: list(paid.payment), invoice_id: list(paid.invoice)},
                lambda after: PaymentResult(pid, [after[invoice_id]], None, created),
            )

        return self.executor.execute(ctx, {pid: PAYMENT, invoice_id: INVOICE}, decide_payment)

    def _pay_order(
        self, ctx: CommandContext, order_id: UUID, command: decide.RecordPayment
    ) -> PaymentResult:
        pid = command.payment_id
        self._order(ctx.tenant_id, order_id)

        def decide_payment(
            loaded: Mapping[UUID, Loaded[Any]], invoice_ids: list[UUID], account: UUID
        ) -> Outcome[PaymentResult]:
            paid = decide.pay_order(
                loaded[order_id].state,
                loaded[account].state,
                [loaded[i].state for i in invoice_ids],
                loaded[pid].state,
                command,
            )
            events: dict[UUID, list[DomainEvent]] = {
                pid: list(paid.payment),
                account: list(paid.account),
                **{i: list(applied) for i, applied in paid.invoices.items()},
            }
            return Outcome(
                events,
                lambda after: PaymentResult(
                    pid, [after[i] for i in paid.invoices], after[account], bool(paid.payment)
                ),
            )

        return self._over_account(ctx, order_id, {pid: PAYMENT}, decide_payment)

    def _payment_result(
        self, tenant_id: UUID, pid: UUID, order_id: UUID, invoice_id: UUID | None
    ) -> PaymentResult:
        """A payment recorded before: the invoices it went to and the order's account now."""
        account = account_id(tenant_id, order_id)
        paid_ids = [
            loaded.state.document.invoice_id
            for loaded in self.of_order(tenant_id, order_id)
            if any(p.payment_id == pid for p in loaded.state.payments)
        ]
        if invoice_id is not None and invoice_id not in paid_ids:
            paid_ids.insert(0, invoice_id)
        invoices = [self.get(tenant_id, i) for i in paid_ids]
        loaded_account = self.streams.load({account: BILLING_ACCOUNT})[account]
        return PaymentResult(pid, invoices, loaded_account, created=False)

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
        reported: tuple[str, Decimal] | None = None,
        now: datetime | None = None,
    ) -> RefundResult:
        """Refunds `amount`, or what `lines` were billed, or, when a gateway `reported` the
        cumulative amount refunded of one of its payments (reference, total), what is new in
        that total. Never more than was paid."""
        tenant = ctx.tenant_id
        order = self._order(tenant, order_id)
        currency = order.currency
        rid = (
            refund_id(tenant, gateway, gateway_reference)
            if gateway is not None and gateway_reference is not None
            else uuid4()
        )
        series = series_id(tenant, credit_note_series(order.store))
        at = now or datetime.now(UTC)
        more: dict[UUID, Kind[Any]] = {rid: PAYMENT, series: INVOICE_SERIES}
        paid_by = None
        if reported is not None:
            paid_by = payment_id(tenant, gateway or "", reported[0])
            more[paid_by] = PAYMENT

        def decide_refund(
            loaded: Mapping[UUID, Loaded[Any]], invoice_ids: list[UUID], account: UUID
        ) -> Outcome[RefundResult]:
            invoices = [loaded[i].state for i in invoice_ids]
            events: dict[UUID, list[DomainEvent]] = {}
            if paid_by is not None and reported is not None:
                value, noted = decide.reported_refund(
                    loaded[paid_by].state, Money.of(reported[1], currency)
                )
                if not noted:
                    return Outcome({}, lambda after: RefundResult(rid, value, [], False))
                events[paid_by] = list(noted)
            elif lines:
                value = decide.refund_for_lines(invoices, lines, currency)
            else:
                value = Money.of(amount if amount is not None else Decimal(0), currency)
            refunded = decide.refund(
                invoices,
                loaded[rid].state,
                loaded[series].state,
                credit_note_series(order.store),
                decide.Refund(
                    refund_id=rid,
                    order_id=order_id,
                    amount=value,
                    reason=reason,
                    gateway=gateway,
                    gateway_reference=gateway_reference,
                    refunded_at=at,
                ),
                loaded[account].state,
            )
            events[rid] = list(refunded.refund)
            events[series] = list(refunded.series)
            events[account] = list(refunded.account)
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

        return self._over_account(ctx, order_id, more, decide_refund)

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
        """Voids an unpaid invoice and gives its quantities back to the order's account."""
        document = self.get(ctx.tenant_id, invoice_id).state.document
        account = account_id(ctx.tenant_id, document.order_id)

        def decide_void(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Invoice]]:
            current = loaded[invoice_id]
            check_version(if_version, current.version, f"invoice {invoice_id}")
            voided = decide.void(
                current.state, loaded[account].state, reason=reason, now=datetime.now(UTC)
            )
            return Outcome(
                {invoice_id: list(voided.invoice), account: list(voided.account)},
                lambda a: a[invoice_id],
            )

        return self.executor.execute(
            ctx, {invoice_id: INVOICE, account: BILLING_ACCOUNT}, decide_void
        )


class _AccountMoved(Exception):
    """An invoice was issued for the order while a refund was being decided: decide again."""
