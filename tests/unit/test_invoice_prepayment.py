"""Prepayment (credit held on the order's billing account), voiding and re-issuing:
given events / when command / then events or refusal."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import reduce
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from domain.invoice import decide
from domain.invoice.errors import (
    CurrencyMismatch,
    InvoiceHasPayments,
    InvoiceNotVoid,
    PaymentNotFound,
    RefundExceedsPayments,
)
from domain.invoice.events import (
    AccountEvent,
    CreditApplied,
    CreditReceived,
    CreditRefunded,
    InvoiceIssued,
    InvoiceReleased,
    OverpaymentRefunded,
    PaymentApplied,
)
from domain.invoice.state import Account, Invoice, InvoiceStatus, Series, evolve_account
from domain.invoice.state import fold as fold_invoice
from domain.order.errors import OrderNotFound
from domain.order.state import Order
from domain.order.state import fold as fold_order
from domain.payment.events import RefundsReported
from domain.payment.state import Receipt
from domain.payment.state import evolve as payment_evolve
from domain.shared.errors import InvalidCommand
from domain.shared.money import Money
from tests.support.gwt import given
from tests.unit.test_invoice_decide import NOW, ORDER_ID, command, eur, placed, refund

INVOICE = command().invoice_id
SECOND_ID = UUID("00000000-0000-0000-0000-0000000000b2")


def fold_account(events: Sequence[AccountEvent]) -> Account:
    return reduce(lambda state, event: evolve_account(event, state), events, Account())


def pay(amount: str, currency: str = "EUR", reference: str = "pi_1") -> decide.RecordPayment:
    return decide.RecordPayment(
        payment_id=uuid4(),
        amount=Money.of(amount, currency),
        method="card",
        gateway="stripe",
        gateway_reference=reference,
        received_at=NOW,
    )


def order(**changes: Any) -> Order:
    return fold_order([placed(**changes)])  # 2 x 10.00 + 1 x 20.00, 19 % tax: 47.60


def prepaid(amount: str) -> tuple[decide.RecordPayment, list[CreditReceived]]:
    payment = pay(amount)
    paid = decide.pay_order(order(), Account(), [], Receipt(), payment)
    return payment, paid.account


def issue_on(account: Account, quantities: dict[int, int] | None, invoice_id: UUID) -> Any:
    return decide.issue(
        Invoice(),
        order(),
        account,
        Series(),
        command(invoice_id=invoice_id, quantities=quantities),
    )


def test_a_payment_before_any_invoice_is_held_as_the_orders_credit() -> None:
    payment = pay("47.60")
    paid = (
        given([], fold_account)
        .when(lambda account: decide.pay_order(order(), account, [], Receipt(), payment))
        .decided()
    )
    assert paid.invoices == {}
    (recorded,) = paid.payment
    assert recorded.invoice_id is None
    assert recorded.order_id == ORDER_ID
    assert paid.account == [
        CreditReceived(
            payment_id=payment.payment_id,
            amount=eur("47.60"),
            method="card",
            gateway="stripe",
            gateway_reference="pi_1",
            received_at=NOW,
        )
    ]
    assert fold_account(paid.account).credit == Decimal("47.60")


def test_an_invoice_is_paid_from_the_held_credit_as_it_is_issued() -> None:
    payment, held = prepaid("47.60")
    issued = given(held, fold_account).when(lambda a: issue_on(a, None, INVOICE)).decided()
    document, applied = issued.invoice
    assert applied == PaymentApplied(
        payment_id=payment.payment_id,
        amount=eur("47.60"),
        method="card",
        gateway="stripe",
        gateway_reference="pi_1",
        received_at=NOW,
        from_credit=True,
    )
    assert issued.account[1] == CreditApplied(
        payment_id=payment.payment_id, invoice_id=INVOICE, amount=eur("47.60")
    )
    invoice = fold_invoice([document, applied])
    assert invoice.status(NOW) is InvoiceStatus.PAID
    assert fold_account([*held, *issued.account]).credit == 0


def test_split_shipments_take_credit_up_to_each_total_and_the_last_takes_the_rest() -> None:
    _, held = prepaid("50.00")  # 2.40 more than the order costs
    first = given(held, fold_account).when(lambda a: issue_on(a, {1: 2}, INVOICE)).decided()
    assert first.invoice[1].amount == eur("23.80")  # the whole first invoice, no more
    after_first = [*held, *first.account]
    assert fold_account(after_first).credit == Decimal("26.20")

    last = given(after_first, fold_account).when(lambda a: issue_on(a, {2: 1}, SECOND_ID))
    second = last.decided()
    assert second.invoice[1].amount == eur("26.20")  # 23.80 due: it shows the overpayment
    invoice = fold_invoice(second.invoice)
    assert invoice.status(NOW) is InvoiceStatus.OVERPAID
    assert invoice.balance == Decimal("-2.40")


def test_underpayment_leaves_the_invoice_partially_paid() -> None:
    _, held = prepaid("40.00")
    issued = given(held, fold_account).when(lambda a: issue_on(a, None, INVOICE)).decided()
    invoice = fold_invoice(issued.invoice)
    assert invoice.status(NOW) is InvoiceStatus.PARTIALLY_PAID
    assert invoice.balance == Decimal("7.60")


def test_a_payment_by_order_pays_owing_invoices_and_holds_the_rest() -> None:
    first = issue_on(Account(), {1: 2}, INVOICE)
    account = fold_account(first.account)
    invoice = fold_invoice(first.invoice)
    paid = decide.pay_order(order(), account, [invoice], Receipt(), pay("30.00"))
    assert [a.amount for a in paid.invoices[INVOICE]] == [eur("23.80")]
    assert paid.payment[0].invoice_id == INVOICE
    assert [c.amount for c in paid.account] == [eur("6.20")]  # line 2 is still to be invoiced


def test_a_payment_by_order_with_nothing_left_to_invoice_overpays_the_newest_invoice() -> None:
    issued = issue_on(Account(), None, INVOICE)
    account = fold_account(issued.account)
    invoice = fold_invoice(issued.invoice)
    paid = decide.pay_order(order(), account, [invoice], Receipt(), pay("50.00"))
    assert paid.account == []
    (applied,) = paid.invoices[INVOICE]
    assert fold_invoice([*issued.invoice, applied]).balance == Decimal("-2.40")


def test_a_payment_by_order_is_refused_in_another_currency_or_for_no_order() -> None:
    given([], fold_account).when(
        lambda a: decide.pay_order(order(), a, [], Receipt(), pay("10", "USD"))
    ).then_refused(CurrencyMismatch, code="currency_mismatch")
    given([], fold_account).when(
        lambda a: decide.pay_order(Order(), a, [], Receipt(), pay("10"))
    ).then_refused(OrderNotFound)
    given([], fold_account).when(
        lambda a: decide.pay_order(order(), a, [], Receipt(), pay("0"))
    ).then_refused(InvalidCommand)


def test_a_payment_recorded_before_records_nothing() -> None:
    payment = pay("10")
    done = decide.pay_order(order(), Account(), [], Receipt(), payment)
    receipt = Receipt(payment=done.payment[0])
    assert decide.pay_order(order(), Account(), [], receipt, payment) == decide.PaidOrder(
        [], {}, []
    )


def test_a_refund_returns_held_credit_first_and_never_more_than_was_paid() -> None:
    payment, held = prepaid("47.60")
    wanted = refund("47.60")
    done = given(held, fold_account).when(
        lambda a: decide.refund([], Receipt(), Series(), "CN", wanted, a)
    )
    refunded = done.decided()
    assert refunded.invoices == {}
    assert refunded.account == [
        CreditRefunded(
            payment_id=payment.payment_id, refund_id=wanted.refund_id, amount=eur("47.60")
        )
    ]
    assert refunded.refund[0].from_credit == eur("47.60")
    after = fold_account([*held, *refunded.account])
    assert (after.credit, after.credit_refunded) == (0, Decimal("47.60"))
    given(held, fold_account).when(
        lambda a: decide.refund([], Receipt(), Series(), "CN", refund("47.61"), a)
    ).then_refused(RefundExceedsPayments)


def test_a_voided_invoice_gives_its_quantities_back_and_is_issued_again() -> None:
    order_with_extras = order(shipping_charge=eur("4.90"))
    first = decide.issue(
        Invoice(), order_with_extras, Account(), Series(), command(quantities={1: 2})
    )
    account = fold_account(first.account)
    voided = decide.void(fold_invoice(first.invoice), account, reason="wrong address", now=NOW)
    assert voided.account == [
        InvoiceReleased(
            invoice_id=command().invoice_id,
            quantities={1: 2},
            shipping_billed=True,
            fixed_discount_used=Decimal(0),
        )
    ]
    released = fold_account([*first.account, *voided.account])
    assert released.invoiced == {1: 0}
    assert not released.shipping_billed

    quantities = decide.reissue_quantities(fold_invoice([*first.invoice, *voided.invoice]))
    again = decide.issue(
        Invoice(),
        order_with_extras,
        released,
        Series(last=1),
        command(invoice_id=SECOND_ID, quantities=quantities),
    )
    original, reissued = first.invoice[0], again.invoice[0]
    assert isinstance(original, InvoiceIssued)
    assert isinstance(reissued, InvoiceIssued)
    assert reissued.number == "WEB-000002"
    assert (reissued.total, reissued.shipping) == (original.total, original.shipping)


def test_only_a_voided_invoice_is_issued_again() -> None:
    issued = issue_on(Account(), None, INVOICE)
    given(issued.invoice, fold_invoice).when(decide.reissue_quantities).then_refused(
        InvoiceNotVoid, code="invoice_not_void"
    )


@settings(max_examples=60, deadline=None)
@hypothesis_given(
    payments=st.lists(st.integers(1, 6_000), min_size=1, max_size=4),
    split=st.booleans(),
)
def test_money_held_or_applied_always_adds_up_to_what_was_paid(
    payments: list[int], split: bool
) -> None:
    """Prepayments, then the invoices: no cent is created or lost between credit and invoices,
    and while anything is left to invoice no invoice is paid beyond its total."""
    events: list[AccountEvent] = []
    for cents in payments:
        paid = decide.pay_order(
            order(), fold_account(events), [], Receipt(), pay(str(Decimal(cents) / 100))
        )
        events.extend(paid.account)
    plans = [({1: 2}, INVOICE), ({2: 1}, SECOND_ID)] if split else [(None, INVOICE)]
    invoices: list[Invoice] = []
    for quantities, invoice_id in plans:
        issued = issue_on(fold_account(events), quantities, invoice_id)
        events.extend(issued.account)
        invoices.append(fold_invoice(issued.invoice))
    total_paid = Decimal(sum(payments)) / 100
    assert sum((i.paid for i in invoices), fold_account(events).credit) == total_paid
    assert fold_account(events).credit == 0  # everything is invoiced: nothing stays held
    for invoice in invoices[:-1]:
        assert invoice.balance >= 0


def test_refunding_an_overpayment_returns_money_without_a_credit_note() -> None:
    _, held = prepaid("50.00")
    issued = issue_on(fold_account(held), None, INVOICE)
    wanted = refund("5.00")
    done = given(issued.invoice, fold_invoice).when(
        lambda invoice: decide.refund([invoice], Receipt(), Series(), "CN", wanted)
    )
    refunded = done.decided()
    assert [(s.credit_note_id is None, s.amount) for s in refunded.refund[0].shares] == [
        (True, eur("2.40")),
        (False, eur("2.60")),
    ]
    returned, note = refunded.invoices[INVOICE]
    assert returned == OverpaymentRefunded(
        refund_id=wanted.refund_id, amount=eur("2.40"), refunded_at=NOW
    )
    assert note.amount == eur("2.60")
    after = fold_invoice([*issued.invoice, returned, note])
    assert (after.balance, after.refunded, after.credited) == (0, Decimal("5.00"), Decimal("2.60"))


def test_voiding_an_invoice_paid_from_credit_holds_the_credit_again() -> None:
    payment, held = prepaid("47.60")
    issued = issue_on(fold_account(held), None, INVOICE)
    account = [*held, *issued.account]
    voided = given(issued.invoice, fold_invoice).when(
        lambda invoice: decide.void(invoice, fold_account(account), reason="typo", now=NOW)
    )
    returned = voided.decided().account[1]
    assert returned == CreditReceived(
        payment_id=payment.payment_id,
        amount=eur("47.60"),
        method="card",
        gateway="stripe",
        gateway_reference="pi_1",
        received_at=NOW,
    )
    after = fold_account([*account, *voided.decided().account])
    assert (after.credit, after.invoiced) == (Decimal("47.60"), {1: 0, 2: 0})
    void_invoice = fold_invoice([*issued.invoice, *voided.decided().invoice])
    assert void_invoice.refundable == 0  # the money is the account's again, not the invoice's

    again = issue_on(after, decide.reissue_quantities(void_invoice), SECOND_ID)
    assert fold_invoice(again.invoice).status(NOW) is InvoiceStatus.PAID


def test_an_invoice_paid_directly_or_refunded_cannot_be_voided() -> None:
    issued = issue_on(Account(), None, INVOICE)
    paid = decide.record_payment(fold_invoice(issued.invoice), Receipt(), pay("1.00"))
    given([*issued.invoice, *paid.invoice], fold_invoice).when(
        lambda invoice: decide.void(invoice, fold_account(issued.account), reason="x", now=NOW)
    ).then_refused(InvoiceHasPayments, code="invoice_paid")


def test_a_cumulative_refund_report_refunds_only_what_is_new() -> None:
    recorded = decide.pay_order(order(), Account(), [], Receipt(), pay("47.60")).payment

    def fold_receipt(events: list[Any]) -> Receipt:
        return reduce(lambda state, event: payment_evolve(event, state), events, Receipt())

    first = given(recorded, fold_receipt).when(
        lambda receipt: decide.reported_refund(receipt, eur("10.00"))
    )
    _, noted = first.then((eur("10.00"), [RefundsReported(total=eur("10.00"))]))
    later = [*recorded, *noted]
    given(later, fold_receipt).when(
        lambda receipt: decide.reported_refund(receipt, eur("15.00"))
    ).then((eur("5.00"), [RefundsReported(total=eur("15.00"))]))
    given(later, fold_receipt).when(
        lambda receipt: decide.reported_refund(receipt, eur("10.00"))
    ).then((eur("0.00"), []))
    given([], fold_receipt).when(
        lambda receipt: decide.reported_refund(receipt, eur("1.00"))
    ).then_refused(PaymentNotFound)
