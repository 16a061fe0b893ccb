"""Money over the REST API: invoicing on shipment, payments, refunds, webhooks, reconciliation."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pypdf import PdfReader

from adapters.payments.stripe import sign
from application.context import CommandContext
from application.ports import Append
from domain.shipment.events import ShipmentLine, ShipmentShipped
from tests.api.conftest import Tenant, assert_problem

SECRET = "whsec_test_0123456789abcdef"


def ship(tenant: Tenant, order: dict[str, Any], lines: dict[int, int] | None = None) -> UUID:
    """Appends ShipmentShipped for a placed order (the fulfilment slice's contract)."""
    shipment_id = uuid4()
    quantities = lines or {line["line_no"]: line["quantity"] for line in order["lines"]}
    event = ShipmentShipped(
        shipment_id=shipment_id,
        order_id=UUID(order["id"]),
        store=order["store"],
        location="BER",
        lines=[
            ShipmentLine(no, order["lines"][no - 1]["sku"], qty) for no, qty in quantities.items()
        ],
        shipped_at=datetime.now(UTC),
    )
    ctx = CommandContext(tenant_id=tenant.tenant_id, actor="test:fulfilment")
    tenant.container.store.append([Append(shipment_id, 0, [event])], ctx.metadata())
    return shipment_id


def invoice_all(tenant: Tenant) -> None:
    while tenant.container.invoicing.run_once():
        pass


def billed(tenant: Tenant, order: dict[str, Any]) -> list[dict[str, Any]]:
    invoices = tenant.container.invoices.of_order(tenant.tenant_id, UUID(order["id"]))
    return [tenant.get(f"/v1/invoices/{i.state.document.invoice_id}").json() for i in invoices]


def configured(tenant: Tenant) -> Tenant:
    tenant.seed()
    tenant.ok("/v1/billing/tax-rates", {"country": "DE", "rate": "0.19"}, 200)
    tenant.ok("/v1/billing/settings", {"base_currency": "EUR", "merchant_name": "Muster GmbH"}, 200)
    tenant.ok("/v1/billing/webhook-secrets", {"gateway": "stripe", "secret": SECRET}, 200)
    return tenant


def test_a_shipment_is_invoiced_once_with_discounts_shipping_and_tax(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place(
        lines=[
            {
                "sku": "MUG",
                "quantity": 2,
                "unit_price": "10.00",
                "discount": {"kind": "percentage", "value": "10"},
            }
        ],
        discount={"kind": "fixed", "value": "1.00"},
        shipping_charge="4.90",
    )
    ship(tenant, order)
    invoice_all(tenant)
    invoice_all(tenant)  # running it again issues nothing twice

    (invoice,) = billed(tenant, order)
    assert invoice["number"] == "WEB-000001"
    assert invoice["subtotal"]["amount"] == "20.00"
    assert invoice["discount_total"]["amount"] == "3.00"
    assert invoice["shipping"]["amount"] == "4.90"
    assert invoice["tax_total"]["amount"] == "4.16"  # 17.00 * 0.19 = 3.23, 4.90 * 0.19 = 0.93
    assert invoice["total"]["amount"] == "26.06"
    assert invoice["status"] == "open"
    assert invoice["fx_rate"] == "1"

    pdf = tenant.get(f"/v1/invoices/{invoice['id']}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "WEB-000001" in text
    assert "26.06" in text


def test_payments_refunds_and_their_refusals(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place()
    ship(tenant, order)
    invoice_all(tenant)
    (invoice,) = billed(tenant, order)
    payment = {
        "invoice_id": invoice["id"],
        "amount": "23.56",
        "currency": "EUR",
        "method": "card",
        "gateway": "manual",
        "gateway_reference": "bank-1",
    }

    first = tenant.ok("/v1/payments", payment)
    assert first["invoice"]["status"] == "paid"
    again = tenant.ok("/v1/payments", payment, 200)
    assert again["payment_id"] == first["payment_id"]
    assert again["invoice"]["paid"]["amount"] == "23.56"
    assert_problem(
        tenant.post("/v1/payments", payment | {"currency": "USD", "gateway_reference": "x"}),
        422,
        "currency_mismatch",
    )

    too_much = tenant.post(f"/v1/orders/{order['id']}/refunds", {"amount": "30.00", "reason": "x"})
    assert_problem(too_much, 409, "refund_exceeds_payments")
    refund = tenant.ok(
        f"/v1/orders/{order['id']}/refunds",
        {"lines": [{"line_no": 1, "quantity": 1}], "reason": "broken mug"},
    )
    assert refund["amount"]["amount"] == "11.78"
    (after,) = refund["invoices"]
    assert after["credit_notes"][0]["number"] == "CN-WEB-000001"
    assert after["refunded"]["amount"] == "11.78"
    assert_problem(
        tenant.post(f"/v1/invoices/{invoice['id']}/void", {"reason": "x"}), 409, "invoice_paid"
    )


def test_an_unpaid_invoice_is_voided_and_overpayment_is_shown(tenant: Tenant) -> None:
    configured(tenant)
    first, second = tenant.place(), tenant.place()
    ship(tenant, first)
    ship(tenant, second)
    invoice_all(tenant)
    (one,), (two,) = billed(tenant, first), billed(tenant, second)
    voided = tenant.post(
        f"/v1/invoices/{one['id']}/void",
        {"reason": "duplicate"},
        headers={"If-Match": f'"{one["version"]}"'},
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "void"
    paid = tenant.ok(
        "/v1/payments",
        {
            "order_id": second["id"],
            "amount": "30.00",
            "currency": "EUR",
            "method": "card",
            "gateway": "manual",
            "gateway_reference": "over-1",
        },
    )
    assert paid["invoice"]["id"] == two["id"]
    assert paid["invoice"]["status"] == "overpaid"
    assert paid["invoice"]["balance"]["amount"] == "-6.44"


def webhook(tenant: Tenant, event: dict[str, Any], secret: str = SECRET, **kw: Any) -> Any:
    body = json.dumps(event).encode()
    header = kw.pop("header", None) or sign(body, secret, int(time.time()))
    return tenant.client.post(
        f"/v1/webhooks/payments/stripe?tenant={tenant.tenant_id}",
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def intent(
    invoice_id: str, amount: int = 2356, event_id: str = "evt_1", reference: str = "pi_1"
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": reference,
                "amount": amount,
                "currency": "eur",
                "metadata": {"invoice_id": invoice_id},
            }
        },
    }


def test_webhooks_verify_the_signature_and_deduplicate_replays(tenant: Tenant) -> None:
    configured(tenant)
    order = tenant.place()
    ship(tenant, order)
    invoice_all(tenant)
    (invoice,) = billed(tenant, order)
    before = tenant.event_count()

    assert_problem(
        webhook(tenant, intent(invoice["id"]), secret="wrong" * 4), 401, "invalid_signature"
    )
    assert_problem(webhook(tenant, intent(invoice["id"]), header="t=1,v1=00"), 401)
    assert tenant.event_count() == before

    first = webhook(tenant, intent(invoice["id"]))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "recorded"
    replay = webhook(tenant, intent(invoice["id"]))
    assert replay.json()["status"] == "duplicate"
    assert tenant.get(f"/v1/invoices/{invoice['id']}").json()["status"] == "paid"

    unknown = webhook(tenant, intent(str(uuid4()), event_id="evt_2", reference="pi_2"))
    assert_problem(unknown, 404, "invoice_not_found")
    malformed = webhook(tenant, {"id": "evt_3", "type": "payment_intent.succeeded"})
    assert_problem(malformed, 422, "malformed_event")

    first_refund = webhook(tenant, charge_refunded("evt_4", {"re_1": 1000}))
    assert first_refund.json()["status"] == "recorded", first_refund.text
    # Stripe's amount_refunded is cumulative: the second partial refund reports 15.00 in all.
    second_refund = webhook(tenant, charge_refunded("evt_5", {"re_2": 500, "re_1": 1000}))
    assert second_refund.json()["status"] == "recorded", second_refund.text
    assert webhook(tenant, charge_refunded("evt_5", {"re_2": 500, "re_1": 1000})).json() == {
        "status": "duplicate",
        "event_id": "evt_5",
    }
    after = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert after["refunded"]["amount"] == "15.00"
    assert [n["amount"]["amount"] for n in after["credit_notes"]] == ["10.00", "5.00"]


def test_refund_webhooks_without_the_refunds_list_record_what_is_new(tenant: Tenant) -> None:
    """API versions that do not expand `charge.refunds` send only the cumulative amount."""
    configured(tenant)
    order = tenant.place()
    ship(tenant, order)
    invoice_all(tenant)
    (invoice,) = billed(tenant, order)
    assert webhook(tenant, intent(invoice["id"])).json()["status"] == "recorded"

    def cumulative(event_id: str, cents: int) -> dict[str, Any]:
        event = charge_refunded(event_id, {"re_unlisted": cents})
        del event["data"]["object"]["refunds"]
        return event

    assert webhook(tenant, cumulative("evt_a", 1000)).json()["status"] == "recorded"
    assert webhook(tenant, cumulative("evt_b", 1500)).json()["status"] == "recorded"
    assert webhook(tenant, cumulative("evt_b", 1500)).json()["status"] == "duplicate"
    assert webhook(tenant, cumulative("evt_a", 1000)).json()["status"] == "duplicate"  # late
    after = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert after["refunded"]["amount"] == "15.00"
    assert [n["amount"]["amount"] for n in after["credit_notes"]] == ["10.00", "5.00"]


def charge_refunded(event_id: str, refunds: dict[str, int]) -> dict[str, Any]:
    """Stripe's charge.refunded: the charge with every refund of it so far, newest first."""
    return {
        "id": event_id,
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_1",
                "payment_intent": "pi_1",
                "amount_refunded": sum(refunds.values()),
                "currency": "eur",
                "refunds": {"data": [{"id": k, "amount": v} for k, v in refunds.items()]},
            }
        },
    }


def test_configured_store_policies_decide_when_orders_are_invoiced(tenant: Tenant) -> None:
    configured(tenant)
    tenant.ok("/v1/billing/stores/web", {"invoice_on": "shipment", "payment_terms_days": 7}, 200)
    tenant.ok("/v1/billing/stores/b2b", {"invoice_on": "order", "tax_rounding": "invoice"}, 200)
    on_shipment, on_order = tenant.place(), tenant.place(store="b2b")
    invoice_all(tenant)
    assert billed(tenant, on_shipment) == []
    (placed,) = billed(tenant, on_order)
    assert (placed["number"], placed["tax_rounding"]) == ("B2B-000001", "invoice")

    ship(tenant, on_shipment)
    invoice_all(tenant)
    (shipped,) = billed(tenant, on_shipment)
    issued, due = (datetime.fromisoformat(shipped[k]) for k in ("issued_at", "due_at"))
    assert (shipped["number"], (due - issued).days) == ("WEB-000001", 7)
