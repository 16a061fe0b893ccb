"""Invoice, payment and refund commands: given events / when command / then events or refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.invoice import decide
from domain.invoice.errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    InvoiceHasPayments,
    InvoiceNotFound,
    InvoiceVoid,
    NotInvoiceable,
    RefundExceedsPayments,
)
from domain.invoice.events import InvoiceIssued, Jurisdiction
from domain.invoice.pricing import TaxPolicy, TaxRounding
from domain.invoice.state import Account, Invoice, InvoiceStatus, Series
from domain.invoice.state import fold as fold_invoice
from domain.order.events import (
    Address,
    Customer,
    Discount,
    DiscountKind,
    OrderLine,
    OrderPlaced,
)
from domain.order.state import fold as fold_order
from domain.payment.state import Receipt
from domain.shared.money import Money
from tests.support.gwt import given

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ORDER_ID = UUID("00000000-0000-0000-0000-00000000000a")
INVOICE_ID = UUID("00000000-0000-0000-0000-0000000000b1")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def placed(**changes: object) -> OrderPlaced:
    fields: dict[str, object] = {
        "order_id": ORDER_ID,
        "store": "web",
        "channel": "web",
        "external_id": None,
        "currency": "EUR",
        "customer": Customer("ada@example.com", "Ada"),
        "shipping_address": Address(
            name="Ada", line1="Street 1", city="Berlin", postal_code="10117", country="DE"
        ),
        "lines": [OrderLine(1, "MUG", 2, eur("10.00")), OrderLine(2, "TEE", 1, eur("20.00"))],
        "placed_at": NOW,
    }
    fields.update(changes)
    return OrderPlaced(**fields)  # type: ignore[arg-type]


def command(**changes: object) -> decide.IssueInvoice:
    fields: dict[str, object] = {
        "invoice_id": INVOICE_ID,
        "shipment_id": None,
        "quantities": None,
        "series": "WEB",
        "merchant": "Kontor GmbH",
        "tax": TaxPolicy(rate=Decimal("0.19")),
        "jurisdiction": Jurisdiction("DE"),
        "exempt_reason": None,
        "base_currency": "EUR",
        "fx_rate": None,
        "payment_terms_days": 14,
        "issued_at": NOW,
    }
    fields.update(changes)
    return decide.IssueInvoice(**fields)  # type: ignore[arg-type]


def issue(order: OrderPlaced | None = None, **changes: object) -> InvoiceIssued:
    issued = decide.issue(
        Invoice(), fold_order([order or placed()]), Account(), Series(), command(**changes)
    )
    document = issued.invoice[0]
    assert isinstance(document, InvoiceIssued)
    return document


def test_issuing_bills_the_lines_with_tax_and_takes_the_next_number() -> None:
    issued = decide.issue(Invoice(), fold_order([placed()]), Account(), Series(last=41), command())

    document = issued.invoice[0]
    assert document.number == "WEB-000042"
    assert issued.series[0].sequence == 42
    assert document.subtotal == eur("40.00")
    assert document.tax_total == eur("7.60")
    assert document.total == eur("47.60")
    assert document.due_at == NOW + timedelta(days=14)
    assert issued.account[0].quantities == {1: 2, 2: 1}


def test_an_already_issued_invoice_is_not_issued_again() -> None:
    issued = fold_invoice([issue()])
    assert (
        given([], lambda _: issued)
        .when(
            lambda state: decide.issue(
                state, fold_order([placed()]), Account(), Series(), command()
            )
        )
        .then(decide.Issued([], [], []))
    )


def test_a_shipment_bills_only_what_shipped_and_shipping_goes_on_the_first_invoice() -> None:
    order = placed(shipping_charge=eur("4.90"))
    first = decide.issue(
        Invoice(), fold_order([order]), Account(), Series(), command(quantities={1: 1})
    )
    assert first.invoice[0].subtotal == eur("10.00")
    assert first.invoice[0].shipping == eur("4.90")
    account = Account(invoiced={1: 1}, shipping_billed=True)
    second = decide.issue(
        Invoice(), fold_order([order]), account, Series(last=1), command(quantities={1: 1, 2: 1})
    )
    assert second.invoice[0].shipping == eur("0.00")
    assert second.invoice[0].number == "WEB-000002"


def test_more_than_is_left_to_invoice_is_refused() -> None:
    given([placed()], fold_order).when(
        lambda order: decide.issue(
            Invoice(), order, Account(invoiced={1: 2}), Series(), command(quantities={1: 1})
        )
    ).then_refused(NotInvoiceable, code="quantity_not_invoiceable")


def test_discounts_per_line_and_per_order_reduce_the_net_before_tax() -> None:
    order = placed(
        lines=[
            OrderLine(1, "MUG", 2, eur("10.00"), Discount(DiscountKind.PERCENTAGE, Decimal(10))),
            OrderLine(2, "TEE", 1, eur("20.00"), Discount(DiscountKind.FIXED, Decimal(5))),
        ],
        discount=Discount(DiscountKind.FIXED, Decimal("3.00")),
    )
    document = issue(order)
    assert document.discount_total == eur("10.00")  # 2.00 + 5.00 + 3.00
    assert sum(line.net.amount for line in document.lines) == Decimal("30.00")
    assert document.tax_total == eur("5.70")
    assert document.total == eur("35.70")


def test_an_exempt_customer_pays_no_tax() -> None:
    document = issue(exempt_reason="EU reverse charge")
    assert document.tax_total == eur("0.00")
    assert document.tax_rate == 0
    assert document.total == eur("40.00")


def test_tax_inclusive_prices_contain_the_tax() -> None:
    document = issue(tax=TaxPolicy(rate=Decimal("0.19"), prices_include_tax=True))
    assert document.total == eur("40.00")
    assert document.tax_total == eur("6.38")  # each line: 20.00 * 0.19 / 1.19 = 3.193 -> 3.19


def test_rounding_per_invoice_rounds_the_sum_once() -> None:
    order = placed(lines=[OrderLine(n, "X", 1, eur("0.05")) for n in (1, 2, 3)])
    per_line = issue(order, tax=TaxPolicy(rate=Decimal("0.1")))
    per_invoice = issue(order, tax=TaxPolicy(rate=Decimal("0.1"), rounding=TaxRounding.INVOICE))
    assert per_line.tax_total == eur("0.00")  # 0.005 per line, half-even -> 0.00 each
    assert per_invoice.tax_total == eur("0.02")  # 0.015 once, half-even -> 0.02
    assert sum(line.tax.amount for line in per_invoice.lines) == Decimal("0.02")


def test_a_foreign_currency_invoice_carries_the_rate_to_the_base_currency() -> None:
    order = placed(currency="USD", lines=[OrderLine(1, "MUG", 1, Money.of("10.00", "USD"))])
    document = issue(order, fx_rate=Decimal("0.9"))
    assert document.conversion is not None
    assert document.conversion.rate == Decimal("0.9")
    assert document.conversion.total_in_base == Money.of("10.71", "EUR")  # 11.90 * 0.9


def _paid(amount: str = "47.60") -> list[object]:
    return [
        issue(),
        decide.record_payment(fold_invoice([issue()]), Receipt(), pay(amount)).invoice[0],
    ]


def pay(amount: str, currency: str = "EUR") -> decide.RecordPayment:
    return decide.RecordPayment(
        payment_id=uuid4(),
        amount=Money.of(amount, currency),
        method="card",
        gateway="stripe",
        gateway_reference="pi_1",
        received_at=NOW,
    )


def test_a_payment_is_applied_and_pays_the_invoice() -> None:
    state = fold_invoice(_paid())  # type: ignore[arg-type]
    assert state.status(NOW) is InvoiceStatus.PAID
    assert state.balance == 0


def test_a_payment_already_recorded_records_nothing() -> None:
    receipt = Receipt(
        payment=decide.record_payment(fold_invoice([issue()]), Receipt(), pay("1")).payment[0]
    )
    assert decide.record_payment(fold_invoice([issue()]), receipt, pay("1")) == decide.Paid([], [])


def test_overpayment_and_underpayment_show_in_the_status() -> None:
    over = fold_invoice(_paid("50.00"))  # type: ignore[arg-type]
    assert over.status(NOW) is InvoiceStatus.OVERPAID
    assert over.balance == Decimal("-2.40")
    under = fold_invoice(_paid("40.00"))  # type: ignore[arg-type]
    assert under.status(NOW) is InvoiceStatus.PARTIALLY_PAID
    assert under.status(NOW + timedelta(days=15)) is InvoiceStatus.OVERDUE


def test_a_payment_in_another_currency_is_refused() -> None:
    given([issue()], fold_invoice).when(
        lambda state: decide.record_payment(state, Receipt(), pay("10", "USD"))
    ).then_refused(CurrencyMismatch)


def test_a_payment_for_an_unknown_invoice_is_refused() -> None:
    given([], fold_invoice).when(
        lambda state: decide.record_payment(state, Receipt(), pay("10"))
    ).then_refused(InvoiceNotFound)


def refund(amount: str) -> decide.Refund:
    return decide.Refund(
        refund_id=uuid4(),
        order_id=ORDER_ID,
        amount=eur(amount),
        reason="damaged",
        gateway=None,
        gateway_reference=None,
        refunded_at=NOW,
    )


def test_a_refund_issues_a_numbered_credit_note_against_the_paid_invoice() -> None:
    paid = fold_invoice(_paid())  # type: ignore[arg-type]
    done = decide.refund([paid], Receipt(), Series(), "CN-WEB", refund("10.00"))
    note = done.invoices[INVOICE_ID][0]
    assert note.number == "CN-WEB-000001"
    assert note.amount == eur("10.00")
    assert note.tax == eur("1.60")
    after = fold_invoice([*_paid(), note])  # type: ignore[list-item]
    assert after.refunded == Decimal("10.00")
    assert after.balance == 0


def test_a_refund_beyond_what_was_paid_is_refused() -> None:
    given(_paid("20.00"), fold_invoice).when(  # type: ignore[arg-type]
        lambda state: decide.refund([state], Receipt(), Series(), "CN", refund("20.01"))
    ).then_refused(RefundExceedsPayments, code="refund_exceeds_payments")


def test_refund_of_lines_costs_what_the_lines_were_billed() -> None:
    paid = fold_invoice(_paid())  # type: ignore[arg-type]
    assert decide.refund_for_lines([paid], {1: 1}, "EUR") == eur("11.90")


def test_an_unpaid_invoice_can_be_voided_once() -> None:
    voided = (
        given([issue()], fold_invoice)
        .when(lambda state: decide.void(state, Account(), reason="duplicate", now=NOW))
        .decided()
    )
    assert fold_invoice([issue(), *voided.invoice]).status(NOW) is InvoiceStatus.VOID
    given([issue(), *voided.invoice], fold_invoice).when(
        lambda state: decide.void(state, Account(), reason="again", now=NOW)
    ).then_refused(InvoiceVoid)


def test_a_paid_invoice_cannot_be_voided() -> None:
    given(_paid(), fold_invoice).when(  # type: ignore[arg-type]
        lambda state: decide.void(state, Account(), reason="oops", now=NOW)
    ).then_refused(InvoiceHasPayments, code="invoice_paid")


def test_a_correction_credit_note_lowers_the_amount_due_but_never_below_zero() -> None:
    state = fold_invoice([issue()])
    notes, numbers = decide.credit(
        state, Series(), "CN", credit_note_id=uuid4(), amount=eur("7.60"), reason="x", now=NOW
    )
    assert fold_invoice([issue(), *notes]).balance == Decimal("40.00")
    assert numbers[0].number == "CN-000001"
    with pytest.raises(CreditExceedsInvoice):
        decide.credit(
            state, Series(), "CN", credit_note_id=uuid4(), amount=eur("47.61"), reason="x", now=NOW
        )
