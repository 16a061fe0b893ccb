"""4x6 inch shipping labels as PDF (for office printers), drawn locally with fpdf2."""

from __future__ import annotations

from fpdf import FPDF

from application.shipping import RateRequest
from domain.shipment.rates import Quote

INCH = 25.4


def _text(value: str) -> str:
    # Core fonts are Latin-1; anything else prints as "?" rather than failing the purchase.
    return value.encode("latin-1", "replace").decode("latin-1")[:48]


def pdf_label(request: RateRequest, chosen: Quote, tracking: str, parcel_count: int) -> bytes:
    """Sender, recipient, service, and the tracking number as text and as a Code 39 barcode."""
    to, origin = request.destination, request.origin
    pdf = FPDF(unit="mm", format=(4 * INCH, 6 * INCH))
    pdf.set_title(f"{chosen.carrier} label {tracking}")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(5, 5, 5)
    pdf.add_page()
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _text(f"From: {origin.name}, {origin.country}"), new_x="LMARGIN", new_y="NEXT")
    pdf.line(5, 12, 4 * INCH - 5, 12)
    pdf.set_y(15)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, _text(to.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    for line in (to.line1, to.line2, f"{to.postal_code} {to.city}", to.country):
        if line:
            pdf.cell(0, 6, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.line(5, 55, 4 * INCH - 5, 55)
    pdf.set_y(58)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0, 8, _text(f"{chosen.carrier} {chosen.service.upper()}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 9)
    summary = f"zone {chosen.zone} - {parcel_count} parcel(s) - {chosen.billable_grams} g"
    pdf.cell(0, 5, _text(summary), new_x="LMARGIN", new_y="NEXT")
    pdf.code39(f"*{tracking}*", x=6, y=78, w=0.35, h=22)
    pdf.set_y(103)
    pdf.set_font("Courier", "B", 12)
    pdf.cell(0, 6, tracking, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(0, 5, _text(f"ref {request.reference}"))
    return bytes(pdf.output())
