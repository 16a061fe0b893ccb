"""Invoice commands: issue (with the next gapless number), pay, refund, credit, void.

Each returns the events of every stream it touches; the application appends them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid5

import msgspec

from domain.invoice.errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    InvoiceHasPayments,
    InvoiceNotFound,
    InvoiceNotVoid,
    InvoiceVoid,
    NothingToInvoice,
    NotInvoiceable,
    PaymentNotFound,
    RefundExceedsPayments,
)
from domain.invoice.events import (
    Conversion,
    CreditApplied,
    CreditNoteIssued,
    CreditReceived,
    CreditRefunded,
    InvoiceIssued,
    InvoiceLine,
    InvoiceRecorded,
    InvoiceReleased,
    InvoiceVoided,
    Jurisdiction,
    NumberAssigned,
    OverpaymentRefunded,
    PaymentApplied,
)
from domain.invoice.pricing import LineCharge, TaxPolicy, price, round_to
from domain.invoice.state import Account, Invoice, Series
from domain.order.errors import OrderNotFound
from domain.order.state import Order
from domain.payment.events import PaymentRecorded, RefundRecorded, RefundShare, RefundsReported
from domain.payment.state import Receipt
from domain.shared.errors import InvalidCommand
from domain.shared.money import Money


class IssueInvoice(msgspec.Struct, frozen=True, kw_only=True):
    """`quantities` per order line; None bills everything not yet billed (policy "on order")."""

    invoice_id: UUID
    shipment_id: UUID | None
    quantities: dict[int, int] | None
    series: str
    merchant: str
    tax: TaxPolicy
    jurisdiction: Jurisdiction
    exempt_reason: str | None
    base_currency: str
    fx_rate: Decimal | None
    payment_terms_days: int
    issued_at: datetime


class Issued(msgspec.Struct, frozen=True):
    invoice: list[InvoiceIssued | PaymentApplied]
    series: list[NumberAssigned]
    account: list[InvoiceRecorded | CreditApplied]


def next_numbers(series: Series, name: str, document_ids: Sequence[UUID]) -> list[NumberAssigned]:
    return [
        NumberAssigned(
            series=name,
            sequence=series.last + offset,
            number=f"{name}-{series.last + offset:06d}",
            document_id=document_id,
        )
        for offset, document_id in enumerate(document_ids, start=1)
    ]


def _quantities(order: Order, account: Account, wanted: dict[int, int] | None) -> dict[int, int]:
    billable = {
        no: line.open_quantity - account.invoiced.get(no, 0) for no, line in order.lines.items()
    }
    if wanted is None:
        return {no: qty for no, qty in billable.items() if qty > 0}
    for no, qty in wanted.items():
        if no not in billable or qty <= 0 or qty > billable[no]:
            raise NotInvoiceable(
                f"line {no}: {qty} cannot be invoiced, {max(billable.get(no, 0), 0)} can",
                line_no=no,
            )
    return {no: qty for no, qty in wanted.items() if qty > 0}


def _left_to_invoice(order: Order, account: Account, billing: dict[int, int]) -> int:
    """Units of the order no invoice has billed, once `billing` is billed too."""
    return sum(
        max(line.open_quantity - account.invoiced.get(no, 0) - billing.get(no, 0), 0)
        for no, line in order.lines.items()
    )


def _use_credit(
    account: Account, invoice_id: UUID, amount: Decimal, currency: str
) -> tuple[list[PaymentApplied], list[CreditApplied]]:
    """Takes up to `amount` of the held credit, oldest payment first."""
    applied: list[PaymentApplied] = []
    used: list[CreditApplied] = []
    left = amount
    for held in account.credits:
        take = min(left, held.amount)
        if take <= 0:
            break
        applied.append(
            PaymentApplied(
                payment_id=held.payment_id,
                amount=Money(take, currency),
                method=held.method,
                gateway=held.gateway,
                gateway_reference=held.gateway_reference,
                received_at=held.received_at,
                from_credit=True,
            )
        )
        used.append(
            CreditApplied(
                payment_id=held.payment_id, invoice_id=invoice_id, amount=Money(take, currency)
            )
        )
        left -= take
    return applied, used


def issue(
    invoice: Invoice, order: Order, account: Account, series: Series, command: IssueInvoice
) -> Issued:
    if invoice.exists:
        return Issued([], [], [])
    if order.id is None or order.customer is None or order.shipping_address is None:
        raise OrderNotFound("the order to invoice does not exist")
    quantities = _quantities(order, account, command.quantities)
    if not quantities:
        raise NothingToInvoice(f"order {order.id} has nothing left to invoice")
    shipping = order.shipping_charge.amount if order.shipping_charge else Decimal(0)
    currency = order.currency
    fixed_left = Decimal(0)
    if order.discount is not None:
        fixed_left = order.discount.value - account.fixed_discount_used
    policy = (
        command.tax
        if command.exempt_reason is None
        else TaxPolicy(
            rate=Decimal(0),
            prices_include_tax=command.tax.prices_include_tax,
            rounding=command.tax.rounding,
        )
    )
    priced = price(
        [
            LineCharge(
                line_no=no,
                sku=order.lines[no].sku,
                quantity=qty,
                ordered=order.lines[no].quantity,
                before=account.invoiced.get(no, 0),
                unit_price=order.lines[no].unit_price.amount,
                discount=order.lines[no].discount,
            )
            for no, qty in sorted(quantities.items())
        ],
        currency=currency,
        shipping=Decimal(0) if account.shipping_billed else shipping,
        discount=order.discount,
        fixed_discount_left=fixed_left,
        tax=policy,
    )

    def money(amount: Decimal) -> Money:
        return Money(amount, currency)

    conversion = None
    if currency == command.base_currency:
        conversion = Conversion(currency, Decimal(1), money(priced.total))
    elif command.fx_rate is not None:
        base_total = round_to(priced.total * command.fx_rate, command.base_currency)
        conversion = Conversion(
            command.base_currency, command.fx_rate, Money(base_total, command.base_currency)
        )
    (number,) = next_numbers(series, command.series, [command.invoice_id])
    issued = InvoiceIssued(
        invoice_id=command.invoice_id,
        number=number.number,
        series=command.series,
        order_id=order.id,
        shipment_id=command.shipment_id,
        store=order.store,
        currency=currency,
        merchant=command.merchant,
        customer=order.customer,
        billing_address=order.shipping_address,
        customer_id=order.customer_id,
        lines=[
            InvoiceLine(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                amount=money(line.amount),
                discount=money(line.discount),
                net=money(line.net),
                tax=money(line.tax),
                total=money(line.total),
            )
            for line in priced.lines
        ],
        shipping=money(priced.shipping),
        shipping_tax=money(priced.shipping_tax),
        subtotal=money(priced.subtotal),
        discount_total=money(priced.discount_total),
        tax_total=money(priced.tax_total),
        total=money(priced.total),
        prices_include_tax=policy.prices_include_tax,
        tax_rounding=str(policy.rounding),
        tax_rate=policy.rate,
        jurisdiction=command.jurisdiction,
        exempt_reason=command.exempt_reason,
        conversion=conversion,
        issued_at=command.issued_at,
        due_at=command.issued_at + timedelta(days=command.payment_terms_days),
    )
    recorded = InvoiceRecorded(
        invoice_id=command.invoice_id,
        order_id=issued.order_id,
        quantities=quantities,
        shipping_billed=priced.shipping > 0,
        fixed_discount_used=priced.order_discount
        if order.discount is not None and order.discount.kind == "fixed"
        else Decimal(0),
    )
    # Held credit pays the new invoice; the invoice that bills the last units takes all of it,
    # so an overpaid order shows as an overpaid invoice rather than as credit nobody will use.
    wanted = account.credit
    if _left_to_invoice(order, account, quantities) > 0:
        wanted = min(wanted, priced.total)
    applied, used = _use_credit(account, command.invoice_id, wanted, currency)
    return Issued([issued, *applied], [number], [recorded, *used])


def reissue_quantities(invoice: Invoice) -> dict[int, int]:
    """What a voided invoice billed, to bill it again on a new invoice."""
    document = _issued(invoice)
    if invoice.voided is None:
        raise InvoiceNotVoid(
            f"invoice {document.number} is not void; void it before issuing it again"
        )
    return {line.line_no: line.quantity for line in document.lines}


class RecordPayment(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    amount: Money
    method: str
    gateway: str
    gateway_reference: str
    received_at: datetime


class Paid(msgspec.Struct, frozen=True):
    payment: list[PaymentRecorded]
    invoice: list[PaymentApplied]


def record_payment(invoice: Invoice, receipt: Receipt, command: RecordPayment) -> Paid:
    """Records what arrived, even beyond the balance (the invoice then shows overpaid)."""
    if receipt.exists:
        return Paid([], [])
    document = _issued(invoice)
    if invoice.voided is not None:
        raise InvoiceVoid(f"invoice {document.number} is void; it takes no payments")
    if command.amount.currency != document.currency:
        raise CurrencyMismatch(
            f"invoice {document.number} is in {document.currency}, "
            f"the payment in {command.amount.currency}",
            field="currency",
        )
    if command.amount.amount <= 0:
        raise InvalidCommand("a payment amount must be positive", field="amount")
    return Paid(
        [
            PaymentRecorded(
                payment_id=command.payment_id,
                invoice_id=document.invoice_id,
                order_id=document.order_id,
                amount=command.amount,
                method=command.method,
                gateway=command.gateway,
                gateway_reference=command.gateway_reference,
                received_at=command.received_at,
            )
        ],
        [
            PaymentApplied(
                payment_id=command.payment_id,
                amount=command.amount,
                method=command.method,
                gateway=command.gateway,
                gateway_reference=command.gateway_reference,
                received_at=command.received_at,
            )
        ],
    )


class PaidOrder(msgspec.Struct, frozen=True):
    payment: list[PaymentRecorded]
    invoices: dict[UUID, list[PaymentApplied]]
    account: list[CreditReceived]


def pay_order(
    order: Order,
    account: Account,
    invoices: Sequence[Invoice],
    receipt: Receipt,
    command: RecordPayment,
) -> PaidOrder:
    """A payment naming only the order pays its invoices still owing, oldest first. The rest is
    held as the order's credit for the invoices still to come (prepayment); when nothing is left
    to invoice, the newest invoice takes it and shows overpaid."""
    if receipt.exists:
        return PaidOrder([], {}, [])
    if order.id is None:
        raise OrderNotFound("the order to pay does not exist")
    if command.amount.currency != order.currency:
        raise CurrencyMismatch(
            f"the order is in {order.currency}, the payment in {command.amount.currency}",
            field="currency",
        )
    if command.amount.amount <= 0:
        raise InvalidCommand("a payment amount must be positive", field="amount")
    live = [i for i in invoices if i.issued is not None and i.voided is None]
    shares: dict[UUID, Decimal] = {}
    left = command.amount.amount
    for invoice in live:
        take = min(left, invoice.balance)
        if take > 0:
            shares[_issued(invoice).invoice_id] = take
            left -= take
    held: list[CreditReceived] = []
    if left > 0 and live and _left_to_invoice(order, account, {}) == 0:
        newest = _issued(live[-1]).invoice_id
        shares[newest] = shares.get(newest, Decimal(0)) + left
    elif left > 0:
        held.append(
            CreditReceived(
                payment_id=command.payment_id,
                amount=Money(left, order.currency),
                method=command.method,
                gateway=command.gateway,
                gateway_reference=command.gateway_reference,
                received_at=command.received_at,
            )
        )
    recorded = PaymentRecorded(
        payment_id=command.payment_id,
        invoice_id=next(iter(shares), None),
        order_id=order.id,
        amount=command.amount,
        method=command.method,
        gateway=command.gateway,
        gateway_reference=command.gateway_reference,
        received_at=command.received_at,
    )
    applied = {
        invoice_id: [
            PaymentApplied(
                payment_id=command.payment_id,
                amount=Money(amount, order.currency),
                method=command.method,
                gateway=command.gateway,
                gateway_reference=command.gateway_reference,
                received_at=command.received_at,
            )
        ]
        for invoice_id, amount in shares.items()
    }
    return PaidOrder([recorded], applied, held)


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: UUID
    order_id: UUID
    amount: Money
    reason: str
    gateway: str | None
    gateway_reference: str | None
    refunded_at: datetime


class Refunded(msgspec.Struct, frozen=True):
    refund: list[RefundRecorded]
    invoices: dict[UUID, list[CreditNoteIssued | OverpaymentRefunded]]
    series: list[NumberAssigned]
    account: list[CreditRefunded] = msgspec.field(default_factory=list)


def reported_refund(receipt: Receipt, total: Money) -> tuple[Money, list[RefundsReported]]:
    """A gateway reports how much of a payment it has refunded so far: what is new since the
    last report is the refund to record (zero for a replayed or out-of-order report)."""
    if receipt.payment is None:
        raise PaymentNotFound("no such payment to refund")
    if total.currency != receipt.payment.amount.currency:
        raise CurrencyMismatch(
            f"the payment is in {receipt.payment.amount.currency}", field="currency"
        )
    new = total.amount - receipt.refunds_reported
    if new <= 0:
        return Money.zero(total.currency), []
    return Money(new, total.currency), [RefundsReported(total=total)]


def refund_for_lines(invoices: Sequence[Invoice], lines: dict[int, int], currency: str) -> Money:
    """What the given quantities of order lines cost, as billed (taxes and discounts included)."""
    amount = Decimal(0)
    for line_no, wanted in sorted(lines.items()):
        left = wanted
        for invoice in invoices:
            if invoice.voided is not None or invoice.issued is None or left <= 0:
                continue
            for line in invoice.issued.lines:
                if line.line_no == line_no and left > 0:
                    take = min(left, line.quantity)
                    amount += round_to(line.total.amount * take / line.quantity, currency)
                    left -= take
        if left > 0:
            raise InvalidCommand(
                f"line {line_no}: only {wanted - left} units were invoiced", field="lines"
            )
    return Money(round_to(amount, currency), currency)


def refund(
    invoices: Sequence[Invoice],
    receipt: Receipt,
    series: Series,
    series_name: str,
    command: Refund,
    account: Account = Account(),  # noqa: B008 - immutable
) -> Refunded:
    """Refunds the order's held credit first (money no invoice took), then what invoices were
    overpaid, then paid invoices newest first with a credit note each; never more than was
    paid and not yet refunded."""
    if receipt.exists:
        return Refunded([], {}, [])
    if command.amount.amount <= 0:
        raise InvalidCommand("a refund amount must be positive", field="amount")
    if not command.reason.strip():
        raise InvalidCommand("a refund needs a reason", field="reason")
    paid = [i for i in invoices if i.issued is not None and i.refundable > 0]
    for invoice in paid:
        if _issued(invoice).currency != command.amount.currency:
            raise CurrencyMismatch(
                f"the order was billed in {_issued(invoice).currency}", field="currency"
            )
    refundable = account.credit + sum((i.refundable for i in paid), Decimal(0))
    if command.amount.amount > refundable:
        raise RefundExceedsPayments(
            f"cannot refund {command.amount.amount} {command.amount.currency}: "
            f"{refundable} was paid and not yet refunded",
            refundable=str(refundable),
        )
    left = command.amount.amount
    from_credit: list[CreditRefunded] = []
    for held in account.credits:
        take = min(left, held.amount)
        if take <= 0:
            break
        from_credit.append(
            CreditRefunded(
                payment_id=held.payment_id,
                refund_id=command.refund_id,
                amount=Money(take, command.amount.currency),
            )
        )
        left -= take
    newest_first = sorted(paid, key=lambda i: _issued(i).issued_at, reverse=True)
    # Money paid beyond an invoice's amount goes back without a credit note: nothing billed
    # is taken back. Only then do refunds credit what was billed.
    returned: list[tuple[InvoiceIssued, Decimal]] = []
    for invoice in newest_first:
        take = min(left, max(-invoice.balance, Decimal(0)), invoice.refundable)
        if take > 0:
            returned.append((_issued(invoice), take))
            left -= take
    excess = {document.invoice_id: amount for document, amount in returned}
    shares: list[tuple[InvoiceIssued, Decimal]] = []
    for invoice in newest_first:
        document = _issued(invoice)
        take = min(left, invoice.refundable - excess.get(document.invoice_id, Decimal(0)))
        if take > 0:
            shares.append((document, take))
            left -= take
    ids = [uuid5(command.refund_id, str(document.invoice_id)) for document, _ in shares]
    numbers = next_numbers(series, series_name, ids)
    events: dict[UUID, list[CreditNoteIssued | OverpaymentRefunded]] = {}
    for document, amount in returned:
        events[document.invoice_id] = [
            OverpaymentRefunded(
                refund_id=command.refund_id,
                amount=Money(amount, document.currency),
                refunded_at=command.refunded_at,
            )
        ]
    for (document, amount), note_id, number in zip(shares, ids, numbers, strict=True):
        events.setdefault(document.invoice_id, []).append(
            CreditNoteIssued(
                credit_note_id=note_id,
                number=number.number,
                amount=Money(amount, document.currency),
                tax=Money(_tax_share(document, amount), document.currency),
                reason=command.reason,
                refund_id=command.refund_id,
                issued_at=command.refunded_at,
            )
        )
    credit_total = sum((c.amount.amount for c in from_credit), Decimal(0))
    recorded = RefundRecorded(
        refund_id=command.refund_id,
        order_id=command.order_id,
        amount=command.amount,
        reason=command.reason,
        gateway=command.gateway,
        gateway_reference=command.gateway_reference,
        shares=[
            *(
                RefundShare(document.invoice_id, None, Money(amount, document.currency))
                for document, amount in returned
            ),
            *(
                RefundShare(document.invoice_id, note_id, Money(amount, document.currency))
                for (document, amount), note_id in zip(shares, ids, strict=True)
            ),
        ],
        refunded_at=command.refunded_at,
        from_credit=Money(credit_total, command.amount.currency) if from_credit else None,
    )
    return Refunded([recorded], events, numbers, from_credit)


def credit(
    invoice: Invoice,
    series: Series,
    series_name: str,
    *,
    credit_note_id: UUID,
    amount: Money,
    reason: str,
    now: datetime,
) -> tuple[list[CreditNoteIssued], list[NumberAssigned]]:
    """A correction: lowers what the invoice asks for, without moving money."""
    document = _issued(invoice)
    if invoice.voided is not None:
        raise InvoiceVoid(f"invoice {document.number} is void")
    if amount.currency != document.currency:
        raise CurrencyMismatch(f"invoice is in {document.currency}", field="currency")
    if amount.amount <= 0:
        raise InvalidCommand("a credit amount must be positive", field="amount")
    if not reason.strip():
        raise InvalidCommand("a credit note needs a reason", field="reason")
    creditable = document.total.amount - invoice.credited
    if amount.amount > creditable:
        raise CreditExceedsInvoice(
            f"at most {creditable} {document.currency} of invoice {document.number} can be "
            "credited",
            creditable=str(creditable),
        )
    (number,) = next_numbers(series, series_name, [credit_note_id])
    note = CreditNoteIssued(
        credit_note_id=credit_note_id,
        number=number.number,
        amount=amount,
        tax=Money(_tax_share(document, amount.amount), document.currency),
        reason=reason,
        refund_id=None,
        issued_at=now,
    )
    return [note], [number]


class Voided(msgspec.Struct, frozen=True):
    invoice: list[InvoiceVoided]
    account: list[InvoiceReleased | CreditReceived]


def void(invoice: Invoice, account: Account, *, reason: str, now: datetime) -> Voided:
    """Voids an invoice nobody paid directly: what it billed goes back to the order's account,
    so it can be invoiced again (see `reissue_quantities`), and what it took of the order's
    held credit is held again."""
    document = _issued(invoice)
    if invoice.voided is not None:
        raise InvoiceVoid(f"invoice {document.number} is already void")
    if any(not p.from_credit for p in invoice.payments) or invoice.credited or invoice.refunded:
        raise InvoiceHasPayments(
            f"invoice {document.number} has payments or credit notes; refund and credit it "
            "instead of voiding"
        )
    if not reason.strip():
        raise InvalidCommand("voiding needs a reason", field="reason")
    billed = account.billed.get(document.invoice_id)
    released = (
        [
            InvoiceReleased(
                invoice_id=document.invoice_id,
                quantities=billed.quantities,
                shipping_billed=billed.shipping_billed,
                fixed_discount_used=billed.fixed_discount_used,
            )
        ]
        if billed is not None
        else []
    )
    returned = [
        CreditReceived(
            payment_id=p.payment_id,
            amount=p.amount,
            method=p.method,
            gateway=p.gateway,
            gateway_reference=p.gateway_reference,
            received_at=p.received_at,
        )
        for p in invoice.payments
    ]
    return Voided([InvoiceVoided(reason=reason, voided_at=now)], [*released, *returned])


def _issued(invoice: Invoice) -> InvoiceIssued:
    if invoice.issued is None:
        raise InvoiceNotFound("no such invoice")
    return invoice.issued


def _tax_share(document: InvoiceIssued, amount: Decimal) -> Decimal:
    if document.total.amount == 0:
        return round_to(Decimal(0), document.currency)
    return round_to(document.tax_total.amount * amount / document.total.amount, document.currency)
