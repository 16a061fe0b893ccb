"""Finance: invoices with their PDF, payments, ageing, reconciliation, and a payout CSV upload
whose mismatches show highlighted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from interfaces.bootstrap import Container
from projections.runner import wait_until_caught_up
from tests.api.conftest import Tenant
from tests.api.test_money import billed, configured, invoice_all, ship
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls


def paid_invoice(tenant: Tenant, reference: str) -> dict[str, Any]:
    """An order shipped, invoiced and paid through the `manual` gateway; its invoice."""
    order = tenant.place()
    ship(tenant, order)
    invoice_all(tenant)
    (invoice,) = billed(tenant, order)
    tenant.ok(
        "/v1/payments",
        {
            "invoice_id": invoice["id"],
            "amount": invoice["total"]["amount"],
            "currency": "EUR",
            "method": "card",
            "gateway": "manual",
            "gateway_reference": reference,
        },
    )
    return invoice


def test_an_invoice_pdf_downloads_from_the_finance_page(
    sign_in: Any, tenant: Tenant, container: Container
) -> None:
    configured(tenant)
    invoice = paid_invoice(tenant, "pay-1")
    wait_until_caught_up(container.datastore, timeout=20)
    page = sign_in("finance")
    page.goto("/dashboard/finance")
    row = page.locator(f'[data-invoice="{invoice["number"]}"]')
    expect(row).to_contain_text("paid")
    expect(page.locator('[data-payment="pay-1"]')).to_contain_text("payment")
    expect(page.locator('[data-reconciliation="all"] h3')).to_contain_text("1 orders")
    screenshots(page, "finance")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)

    with page.expect_download() as download:
        row.get_by_role("link", name=f"PDF of invoice {invoice['number']}").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == f"{invoice['number']}.pdf"
    assert saved.read_bytes().startswith(b"%PDF-")


def test_a_payout_upload_shows_its_mismatches_highlighted(
    sign_in: Any, tenant: Tenant, container: Container, tmp_path: Path
) -> None:
    configured(tenant)
    first, second = paid_invoice(tenant, "pay-a"), paid_invoice(tenant, "pay-b")
    wait_until_caught_up(container.datastore, timeout=20)
    page = sign_in("finance")
    page.goto("/dashboard/finance")
    expect(page.get_by_text("No payout imported yet.")).to_be_visible()

    bad = tmp_path / "bad.csv"
    bad.write_text("type,reference,amount,currency\nrefund-ish,x,1.00,EUR\n")
    form = page.locator("form[data-upload]")
    form.get_by_label("Gateway").fill("manual")
    form.get_by_label("Payout CSV").set_input_files(bad)
    form.get_by_role("button", name="Upload payout").click()
    expect(form.locator("[role=alert]")).to_contain_text("row 2: bad type or reference")
    expect(page.get_by_text("No payout imported yet.")).to_be_visible()

    payout = tmp_path / "payout.csv"
    payout.write_text(
        "type,reference,amount,currency\n"
        f"charge,pay-a,{first['total']['amount']},EUR\n"
        "charge,pay-b,1.00,EUR\n"
        "charge,pay-zz,5.00,EUR\n"
    )
    form.get_by_label("Gateway").fill("manual")
    form.get_by_label("Payout CSV").set_input_files(payout)
    form.get_by_role("button", name="Upload payout").click()

    imported = page.locator("[data-payout]")
    expect(imported).to_have_count(1)
    expect(imported.locator('[data-count="matched"]')).to_have_text("1 matched")
    differs = imported.locator('[data-mismatch="pay-b"]')
    expect(differs).to_contain_text("amount differs")
    expect(differs).to_have_class("mismatch")
    expect(imported.locator('[data-mismatch="pay-zz"]')).to_contain_text("missing in kontor")
    assert second["total"]["amount"] != "1.00"
    screenshots(page, "finance-payout")


def test_a_bad_period_says_why_on_the_page(sign_in: Any, seeded: Tenant) -> None:
    page = sign_in("finance")
    response = page.goto("/dashboard/finance?placed_from=yesterday")
    assert response is not None
    assert response.status == 400
    expect(page.locator("main")).to_contain_text("from must be an RFC 3339 date or time")
