"""Invoice PDFs, drawn locally with fpdf2 (core fonts: Latin-1 text)."""

from __future__ import annotations

from fpdf import FPDF

from domain.invoice.state import Invoice


def _text(value: str) -> str:
    return value.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(invoice: Invoice) -> bytes:
    doc = invoice.document
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {doc.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(doc.merchant or "Invoice"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Invoice {doc.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Issued {doc.issued_at:%Y-%m-%d}   Due {doc.due_at:%Y-%m-%d}",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    if invoice.voided is not None:
        pdf.cell(0, 6, f"VOID: {_text(invoice.voided.reason)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    address = doc.billing_address
    for line in (
        doc.customer.name,
        doc.customer.email,
        address.line1,
        address.line2 or "",
        f"{address.postal_code} {address.city}",
        f"{address.region + ', ' if address.region else ''}{address.country}",
    ):
        if line:
            pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    widths = (10, 40, 15, 25, 25, 25, 25, 25)
    headers = ("#", "SKU", "Qty", "Unit", "Discount", "Net", "Tax", "Total")
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 6, header, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for item in doc.lines:
        values = (
            str(item.line_no), item.sku, str(item.quantity), str(item.unit_price.amount),
            str(item.discount.amount), str(item.net.amount), str(item.tax.amount),
            str(item.total.amount),
        )  # fmt: skip
        for width, value in zip(widths, values, strict=True):
            pdf.cell(width, 6, _text(value), border=1)
        pdf.ln()
    pdf.ln(3)
    rate = f"{doc.tax_rate * 100:.2f}%"
    taxes = "incl." if doc.prices_include_tax else "plus"
    rows = [
        ("Subtotal", doc.subtotal.amount),
        ("Discounts", -doc.discount_total.amount),
        ("Shipping", doc.shipping.amount),
        (f"Tax {rate} ({taxes}, {doc.jurisdiction.country})", doc.tax_total.amount),
        ("Total", doc.total.amount),
    ]
    for label, amount in rows:
        pdf.cell(150, 6, _text(label), align="R")
        pdf.cell(40, 6, f"{amount} {doc.currency}", align="R", new_x="LMARGIN", new_y="NEXT")
    if doc.exempt_reason:
        pdf.cell(0, 6, _text(f"Tax exempt: {doc.exempt_reason}"), new_x="LMARGIN", new_y="NEXT")
    if doc.conversion is not None and doc.conversion.base_currency != doc.currency:
        pdf.cell(0, 6, f"Rate 1 {doc.currency} = {doc.conversion.rate} "
                 f"{doc.conversion.base_currency}", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.cell(0, 6, f"Paid {invoice.paid} {doc.currency}, balance {invoice.balance} {doc.currency}",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())
