"""Paid at checkout: a payment before any invoice is held as the order's credit and pays the
invoices as they are issued. Voided invoices are issued again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

from tests.api.conftest import Tenant, assert_problem
from tests.api.test_fulfilment_flow import ship_everything
from tests.api.test_money import billed, configured, invoice_all, ship, webhook


def prepay(tenant: Tenant, order: dict[str, Any], amount: str, reference: str, **kw: Any) -> Any:
    body = {
        "order_id": order["id"],
        "amount": amount,
        "currency": "EUR",
        "method": "card",
        "gateway": "stripe",
        "gateway_reference": reference,
    }
    return tenant.post("/v1/payments", body | kw)


def billing(tenant: Tenant, order: dict[str, Any]) -> dict[str, Any]:
    response = tenant.get(f"/v1/orders/{order['id']}/billing")
    assert response.status_code == 200, response.text
    return response.json()


def reconciled(tenant: Tenant, order: dict[str, Any]) -> dict[str, Any]:
    """The order's reconciliation row, its amounts as Decimals."""
    report = tenant.get("/v1/reconciliation").json()
    (row,) = (row for row in report["orders"] if row["order_id"] == order["id"])
    return {
        k: Decimal(v)
        if isinstance(v, str) and k != "order_id" and k != "store" and k != "currency"
        else v
        for k, v in row.items()
    }


def amounts(body: dict[str, Any], *fields: str) -> tuple[str, ...]:
    return tuple(body[field]["amount"] for field in fields)


def test_an_order_paid_at_checkout_is_invoiced_as_paid(tenant: Tenant, caught_up: Any) -> None:
    configured(tenant)
    order = tenant.place()  # 2 x 9.90 + 19 % = 23.56

    paid = prepay(tenant, order, "23.56", "pi_checkout")
    assert paid.status_code == 201, paid.text
    assert paid.json()["invoice"] is None
    assert paid.json()["credit"] == {"amount": "23.56", "currency": "EUR"}
    assert prepay(tenant, order, "23.56", "pi_checkout").status_code == 200  # same payment
    assert amounts(billing(tenant, order), "paid", "credit", "invoiced") == (
        "23.56",
        "23.56",
        "0.00",
    )

    ship(tenant, order)
    invoice_all(tenant)
    (invoice,) = billed(tenant, order)
    assert invoice["status"] == "paid"
    assert invoice["payments"][0]["gateway_reference"] == "pi_checkout"
    account = billing(tenant, order)
    assert amounts(account, "paid", "credit", "invoiced", "outstanding", "overpaid") == (
        "23.56",
        "0.00",
        "23.56",
        "0.00",
        "0.00",
    )
    caught_up()
    row = reconciled(tenant, order)
    assert (row["paid"], row["credit"], row["outstanding"], row["overpaid"]) == (
        Decimal("23.56"),
        0,
        0,
        0,
    )
    assert row["mismatches"] == []


def test_over_and_underpayment_at_checkout_stay_recorded(tenant: Tenant, caught_up: Any) -> None:
    configured(tenant)
    over, under = tenant.place(), tenant.place()
    assert prepay(tenant, over, "30.00", "pi_over").status_code == 201
    assert prepay(tenant, under, "20.00", "pi_under").status_code == 201
    caught_up()
    assert reconciled(tenant, over)["credit"] == Decimal("30.00")  # held, waiting for the invoice
    for order in (over, under):
        ship(tenant, order)
    invoice_all(tenant)

    (overpaid,) = billed(tenant, over)
    assert (overpaid["status"], overpaid["balance"]["amount"]) == ("overpaid", "-6.44")
    (underpaid,) = billed(tenant, under)
    assert (underpaid["status"], underpaid["balance"]["amount"]) == ("partially_paid", "3.56")
    caught_up()
    over_row, under_row = reconciled(tenant, over), reconciled(tenant, under)
    assert (over_row["overpaid"], over_row["credit"]) == (Decimal("6.44"), 0)
    assert under_row["outstanding"] == Decimal("3.56")

    too_much = tenant.post(f"/v1/orders/{over['id']}/refunds", {"amount": "30.01", "reason": "x"})
    assert_problem(too_much, 409, "refund_exceeds_payments")
    tenant.ok(f"/v1/orders/{over['id']}/refunds", {"amount": "6.44", "reason": "overpaid"})
    assert billed(tenant, over)[0]["status"] == "paid"


def test_a_cancelled_prepaid_order_gets_its_credit_refunded(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place()
    assert prepay(tenant, order, "23.56", "pi_cancel").status_code == 201
    tenant.ok(f"/v1/orders/{order['id']}/cancel", {"reason": "customer changed mind"}, 200)
    refund = tenant.ok(f"/v1/orders/{order['id']}/refunds", {"amount": "23.56", "reason": "x"})
    assert refund["invoices"] == []
    assert amounts(billing(tenant, order), "paid", "refunded", "credit") == (
        "23.56",
        "23.56",
        "0.00",
    )
    again = tenant.post(f"/v1/orders/{order['id']}/refunds", {"amount": "0.01", "reason": "x"})
    assert_problem(again, 409, "refund_exceeds_payments")


def test_prepayment_refusals_write_nothing(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place()
    before = tenant.event_count()
    assert_problem(prepay(tenant, order, "23.56", "pi_usd", currency="USD"), 422)
    assert_problem(prepay(tenant, {"id": str(uuid4())}, "1.00", "pi_none"), 404, "order_not_found")
    assert_problem(prepay(tenant, order, "0", "pi_zero"), 422)
    assert tenant.event_count() == before


def test_a_voided_invoice_is_issued_again_for_the_same_shipment(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place(shipping_charge="4.90")
    ship(tenant, order)
    invoice_all(tenant)
    (first,) = billed(tenant, order)
    assert_problem(tenant.post(f"/v1/invoices/{first['id']}/reissue"), 409, "invoice_not_void")
    tenant.ok(f"/v1/invoices/{first['id']}/void", {"reason": "wrong address"}, 200)

    again = tenant.ok(f"/v1/invoices/{first['id']}/reissue", None)
    assert again["number"] == "WEB-000002"
    assert again["shipment_id"] == first["shipment_id"]
    assert again["total"] == first["total"]  # shipping billed again, once
    assert tenant.ok(f"/v1/invoices/{first['id']}/reissue", None)["id"] == again["id"]
    invoice_all(tenant)  # the shipment replayed would issue nothing
    assert [i["number"] for i in billed(tenant, order)] == ["WEB-000001", "WEB-000002"]
    account = billing(tenant, order)
    assert account["invoiced"] == again["total"]


def test_a_checkout_webhook_before_shipping_is_held_as_credit(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place()
    event = {
        "id": "evt_checkout",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_checkout",
                "amount": 2356,
                "currency": "eur",
                "metadata": {"order_id": order["id"]},
            }
        },
    }
    assert webhook(tenant, event).json()["status"] == "recorded"
    assert webhook(tenant, event).json()["status"] == "duplicate"
    assert billing(tenant, order)["credit"]["amount"] == "23.56"
    ship(tenant, order)
    invoice_all(tenant)
    assert billed(tenant, order)[0]["status"] == "paid"


def test_a_prepaid_invoice_is_voided_and_reissued_paid(tenant: Tenant, caught_up: Any) -> None:
    configured(tenant)
    order = tenant.place()
    assert prepay(tenant, order, "23.56", "pi_void").status_code == 201
    ship(tenant, order)
    invoice_all(tenant)
    (first,) = billed(tenant, order)
    assert first["status"] == "paid"

    voided = tenant.ok(f"/v1/invoices/{first['id']}/void", {"reason": "wrong address"}, 200)
    assert voided["status"] == "void"
    assert billing(tenant, order)["credit"]["amount"] == "23.56"
    again = tenant.ok(f"/v1/invoices/{first['id']}/reissue", None)
    assert (again["status"], again["paid"]["amount"]) == ("paid", "23.56")
    caught_up()
    row = reconciled(tenant, order)
    assert (row["paid"], row["invoiced"], row["credit"], row["mismatches"]) == (
        Decimal("23.56"),
        Decimal("23.56"),
        0,
        [],
    )


def test_paid_at_checkout_and_shipped_from_two_locations_end_to_end(
    tenant: Tenant, caught_up: Any
) -> None:
    """Through the fulfilment API: each shipment's invoice is paid from the checkout payment."""
    configured(tenant)
    order = tenant.place(lines=[{"sku": "MUG", "quantity": 12, "unit_price": "9.90"}])
    total = "141.37"  # 12 x 9.90 = 118.80 + 19 % tax
    assert prepay(tenant, order, total, "pi_split").status_code == 201

    ship_everything(tenant, order["id"], "BER")  # 10 units
    invoice_all(tenant)
    first = billed(tenant, order)
    assert [(i["status"], i["total"]["amount"]) for i in first] == [("paid", "117.81")]
    assert billing(tenant, order)["credit"]["amount"] == "23.56"

    ship_everything(tenant, order["id"], "MUC")  # the other 2
    invoice_all(tenant)
    assert [i["status"] for i in billed(tenant, order)] == ["paid", "paid"]
    caught_up()
    row = reconciled(tenant, order)
    assert (row["paid"], row["invoiced"], row["credit"], row["outstanding"]) == (
        Decimal(total),
        Decimal(total),
        0,
        0,
    )
    assert row["mismatches"] == []
