"""Reconciliation finds every mismatch the commands would refuse, injected as a bad import or a
bug would write them; payout files are imported, listed and matched."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from application.context import CommandContext
from application.invoices import payment_id
from application.ports import Append
from domain.invoice.events import CreditNoteIssued, PaymentApplied
from domain.payment.events import PaymentRecorded, RefundRecorded
from domain.shared.events import DomainEvent
from domain.shared.money import Money
from tests.api.conftest import Tenant, assert_problem
from tests.api.test_money import billed, configured, invoice_all, ship


def inject(tenant: Tenant, streams: dict[UUID, tuple[int, list[DomainEvent]]]) -> None:
    """Appends events straight to the store, past every command's checks."""
    ctx = CommandContext(tenant_id=tenant.tenant_id, actor="test:injection")
    tenant.container.store.append(
        [Append(stream, version, events) for stream, (version, events) in streams.items()],
        ctx.metadata(),
    )


def pay(tenant: Tenant, invoice: dict[str, Any], reference: str, amount: str = "23.56") -> Any:
    return tenant.ok(
        "/v1/payments",
        {
            "invoice_id": invoice["id"],
            "amount": amount,
            "currency": "EUR",
            "method": "card",
            "gateway": "manual",
            "gateway_reference": reference,
        },
    )


def test_reconciliation_finds_every_injected_mismatch(tenant: Tenant, caught_up: Any) -> None:
    configured(tenant)
    orders = {
        name: tenant.place()
        for name in ("clean", "unbilled", "twice", "foreign", "over_refunded", "bad_total")
    }
    for name, order in orders.items():
        if name != "unbilled":
            ship(tenant, order)
    invoice_all(tenant)
    ship(tenant, orders["unbilled"])  # after the process manager ran: shipped, not invoiced
    invoice = {
        name: billed(tenant, order)[0] for name, order in orders.items() if billed(tenant, order)
    }
    now = datetime.now(UTC)

    pay(tenant, invoice["clean"], "clean")
    pay(tenant, invoice["twice"], "a")
    pay(tenant, invoice["twice"], "b")

    # A payment in USD on a EUR invoice (the API refuses it: 422 currency_mismatch).
    foreign = invoice["foreign"]
    usd = Money.of("23.56", "USD")
    pid = payment_id(tenant.tenant_id, "manual", "usd")
    inject(
        tenant,
        {
            pid: (
                0,
                [
                    PaymentRecorded(
                        payment_id=pid,
                        invoice_id=UUID(foreign["id"]),
                        order_id=UUID(foreign["order_id"]),
                        amount=usd,
                        method="card",
                        gateway="manual",
                        gateway_reference="usd",
                        received_at=now,
                    )
                ],
            ),
            UUID(foreign["id"]): (
                foreign["version"],
                [
                    PaymentApplied(
                        payment_id=pid,
                        amount=usd,
                        method="card",
                        gateway="manual",
                        gateway_reference="usd",
                        received_at=now,
                    )
                ],
            ),
        },
    )

    # A refund of 30.00 against 23.56 paid (the API refuses it: 409 refund_exceeds_payments).
    paid = pay(tenant, invoice["over_refunded"], "over")["invoice"]
    refund_id = uuid4()
    too_much = Money.of("30.00", "EUR")
    inject(
        tenant,
        {
            refund_id: (
                0,
                [
                    RefundRecorded(
                        refund_id=refund_id,
                        order_id=UUID(paid["order_id"]),
                        amount=too_much,
                        reason="bad import",
                        gateway="manual",
                        gateway_reference="re_over",
                        shares=[],
                        refunded_at=now,
                    )
                ],
            ),
            UUID(paid["id"]): (
                paid["version"],
                [
                    CreditNoteIssued(
                        credit_note_id=uuid4(),
                        number="CN-WEB-999999",
                        amount=too_much,
                        tax=Money.of("0", "EUR"),
                        reason="bad import",
                        refund_id=refund_id,
                        issued_at=now,
                    )
                ],
            ),
        },
    )
    caught_up()

    # An invoice whose total is not its lines + shipping + tax (a bug in a projection or an
    # import; no command can issue one).
    with tenant.container.datastore.transaction(commit=True) as curs:
        curs.execute(
            "UPDATE invoices_view SET total = total + 0.01 WHERE id = %s",
            (UUID(invoice["bad_total"]["id"]),),
        )

    report = tenant.get("/v1/reconciliation").json()
    found = {row["order_id"]: row["mismatches"] for row in report["orders"]}
    kinds = {name: {m["kind"] for m in found[order["id"]]} for name, order in orders.items()}
    assert kinds == {
        "clean": set(),
        "unbilled": {"shipped_not_invoiced"},
        "twice": {"paid_twice"},
        "foreign": {"currency_mismatch"},
        "over_refunded": {"refunded_more_than_paid"},
        "bad_total": {"invoice_total_mismatch"},
    }
    reasons = [m["detail"] for m in found[orders["unbilled"]["id"]]]
    assert reasons == ["2 units shipped, 0 invoiced"]
    (totals,) = report["totals"]
    assert totals["mismatches"] == sum(len(listed) for listed in found.values())
    assert totals["shipped_value"] == "118.80"  # 6 orders x 2 x 9.90
    assert totals["invoiced"] == "117.81"  # 5 invoices x 23.56, one of them a cent off

    rows = list(csv.DictReader(io.StringIO(tenant.get("/v1/reconciliation?format=csv").text)))
    assert {row["order_id"]: row["mismatches"] for row in rows}[orders["twice"]["id"]] == (
        f"paid_twice: invoice {invoice['twice']['number']} was paid more than once"
    )
    ageing = {b["bucket"]: b for b in tenant.get("/v1/receivables/ageing").json()}
    assert ageing["current"]["invoices"] == 1  # bad_total; the others are settled
    overpaid = tenant.get("/v1/invoices", params={"status": "overpaid"}).json()["items"]
    assert [i["id"] for i in overpaid] == [invoice["twice"]["id"]]


def upload(tenant: Tenant, rows: str, gateway: str = "manual") -> Any:
    return tenant.post(
        "/v1/reconciliation/payouts",
        files={"file": ("payout.csv", f"type,reference,amount,currency\n{rows}".encode())},
        params={"gateway": gateway},
    )


def test_payout_imports_are_listed_with_their_match_results(tenant: Tenant, caught_up: Any) -> None:
    configured(tenant)
    orders = [tenant.place() for _ in range(3)]
    for order in orders:
        ship(tenant, order)
    invoice_all(tenant)
    for reference, order in zip(("a", "b", "c"), orders, strict=True):
        pay(tenant, billed(tenant, order)[0], reference)
    caught_up()

    first = upload(tenant, "charge,a,23.56,EUR\ncharge,b,20.00,EUR\ncharge,zz,1.00,EUR\n")
    assert first.status_code == 201, first.text
    statuses = {m["reference"]: m["status"] for m in first.json()["items"]}
    assert statuses == {
        "a": "matched",
        "b": "amount_differs",
        "zz": "missing_in_kontor",
        "c": "missing_at_gateway",
    }
    second = upload(tenant, "charge,c,23.56,EUR\n")
    assert {m["reference"]: m["status"] for m in second.json()["items"]} == {"c": "matched"}
    assert_problem(upload(tenant, "refund-ish,x,1.00,EUR\n"), 422, "invalid_payout_file")

    page = tenant.get("/v1/reconciliation/payouts", params={"limit": 1}).json()
    (newest,) = page["items"]
    assert newest["import_id"] == second.json()["import_id"]
    assert (newest["lines"], newest["matched"], newest["mismatches"]) == (1, 1, [])
    older = tenant.get(
        "/v1/reconciliation/payouts", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    (oldest,) = older["items"]
    assert older["next_cursor"] is None
    assert (oldest["matched"], oldest["amount_differs"], oldest["missing_in_kontor"]) == (1, 1, 1)
    assert oldest["missing_at_gateway"] == 1
    differs = next(m for m in oldest["mismatches"] if m["status"] == "amount_differs")
    assert (differs["gateway_amount"], differs["kontor_amount"]) == ("20.00", "23.56")

    exported = tenant.get("/v1/reconciliation/payouts", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(row["status"] for row in rows) == [
        "amount_differs",
        "matched",
        "matched",
        "missing_at_gateway",
        "missing_in_kontor",
    ]
    assert_problem(tenant.get("/v1/reconciliation/payouts", params={"cursor": "nope"}), 400)
