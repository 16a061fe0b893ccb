"""Stateful hypothesis: any interleaving of prepayments, partial invoices, voids, re-issues and
refunds on one order keeps its money consistent: every cent paid and not refunded is either
held as credit or on a live invoice, nothing is billed twice, no invoice is refunded beyond
what it was paid."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.invoice import decide
from domain.invoice.state import Account, Invoice, Series, evolve, evolve_account
from domain.order.state import Order
from domain.order.state import fold as fold_order
from domain.payment.state import Receipt
from domain.shared.errors import DomainError
from domain.shared.events import DomainEvent
from tests.unit.test_invoice_decide import NOW, ORDER_ID, command, placed, refund
from tests.unit.test_invoice_prepayment import pay

CENTS = st.integers(1, 6_000)


class BillingAccountMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.order: Order = fold_order([placed()])  # 2 x 10.00 and 1 x 20.00, 19 % tax
        self.account = Account()
        self.invoices: dict[UUID, Invoice] = {}
        self.paid = Decimal(0)
        self.refunded = Decimal(0)

    def in_order(self) -> list[Invoice]:
        return [self.invoices[i] for i in self.account.invoices]

    def apply(self, account: list[DomainEvent], invoices: dict[UUID, list[DomainEvent]]) -> None:
        for event in account:
            self.account = evolve_account(event, self.account)
        for invoice_id, events in invoices.items():
            state = self.invoices.get(invoice_id, Invoice())
            for event in events:
                state = evolve(event, state)
            self.invoices[invoice_id] = state

    def issue(self, invoice_id: UUID, quantities: dict[int, int]) -> None:
        try:
            issued = decide.issue(
                Invoice(),
                self.order,
                self.account,
                Series(),
                command(invoice_id=invoice_id, quantities=quantities),
            )
        except DomainError:
            return
        self.apply(list(issued.account), {invoice_id: list(issued.invoice)})

    @rule(cents=CENTS)
    def pay_the_order(self, cents: int) -> None:
        done = decide.pay_order(
            self.order, self.account, self.in_order(), Receipt(), pay(str(Decimal(cents) / 100))
        )
        self.paid += done.payment[0].amount.amount
        self.apply(list(done.account), dict(done.invoices))  # type: ignore[arg-type]

    @rule(line_no=st.sampled_from([1, 2]))
    def ship_one_unit(self, line_no: int) -> None:
        self.issue(uuid4(), {line_no: 1})

    @rule(index=st.integers(0, 5))
    def void(self, index: int) -> None:
        live = [i for i in self.in_order() if i.voided is None]
        if not live:
            return
        target = live[index % len(live)]
        try:
            voided = decide.void(target, self.account, reason="wrong", now=NOW)
        except DomainError:
            return
        document = target.document
        self.apply(list(voided.account), {document.invoice_id: list(voided.invoice)})
        self.issue(uuid4(), decide.reissue_quantities(self.invoices[document.invoice_id]))

    @rule(cents=CENTS)
    def refund(self, cents: int) -> None:
        wanted = refund(str(Decimal(cents) / 100))
        try:
            done = decide.refund(self.in_order(), Receipt(), Series(), "CN", wanted, self.account)
        except DomainError:
            return
        self.refunded += done.refund[0].amount.amount
        self.apply(list(done.account), dict(done.invoices))  # type: ignore[arg-type]

    @invariant()
    def every_cent_paid_is_held_or_on_a_live_invoice(self) -> None:
        live = [i for i in self.invoices.values() if i.voided is None]
        on_invoices = sum((i.paid - i.refunded for i in live), Decimal(0))
        assert self.paid - self.refunded == self.account.credit + on_invoices
        assert self.account.credit >= 0
        assert all(0 <= i.refunded <= i.paid for i in self.invoices.values())

    @invariant()
    def nothing_is_billed_twice(self) -> None:
        billed: dict[int, int] = {}
        for invoice in self.invoices.values():
            if invoice.voided is None:
                for line in invoice.document.lines:
                    billed[line.line_no] = billed.get(line.line_no, 0) + line.quantity
        assert billed == {no: q for no, q in self.account.invoiced.items() if q}
        assert all(billed.get(no, 0) <= line.quantity for no, line in self.order.lines.items())
        assert self.order.id == ORDER_ID


BillingAccountMachine.TestCase.settings = settings(
    max_examples=120, stateful_step_count=30, deadline=None
)
test_billing_account = BillingAccountMachine.TestCase
