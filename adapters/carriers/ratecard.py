"""Carriers from versioned rate-card data: quotes and labels (ZPL or PDF), computed locally.

`ratecards.json` holds the cards of every configured service (UPS, FedEx, USPS, DHL); a label's
tracking number is derived from the shipment reference, so buying it again is the same label.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path

import msgspec

from adapters.carriers.pdf_label import pdf_label
from application.shipping import LabelFormat, RateRequest
from domain.shared.errors import DomainError, InvalidCommand
from domain.shipment.packing import Box
from domain.shipment.rates import Quote, RateCard, quote
from domain.shipment.state import Label

HERE = Path(__file__).parent
RATE_CARDS = HERE / "ratecards.json"
BOXES = HERE / "boxes.json"


class RateCardFile(msgspec.Struct, frozen=True):
    version: str
    cards: list[RateCard]


class BoxFile(msgspec.Struct, frozen=True):
    version: str
    boxes: list[Box]


class NoRate(DomainError):
    code = "no_rate"


def tracking_number(carrier: str, reference: str) -> str:
    digest = hashlib.sha256(f"{carrier}\x1f{reference}".encode()).hexdigest().upper()
    prefixes = {"UPS": "1Z", "FedEx": "", "USPS": "9400", "DHL": "JD"}
    number = str(int(digest[:20], 16))[:18]
    return prefixes.get(carrier, carrier[:2].upper()) + number


def zpl_label(request: RateRequest, chosen: Quote, tracking: str, parcel_count: int) -> str:
    """A 4x6 inch ZPL II label: sender, recipient, service, and the tracking number as Code 128."""
    to = request.destination
    origin = request.origin

    def text(value: str) -> str:
        return value.replace("^", " ").replace("~", " ")[:40]

    lines = [
        "^XA",
        "^CI28",
        f"^FO40,40^A0N,30,30^FD{text(origin.name)}^FS",
        f"^FO40,75^A0N,25,25^FD{text(origin.code)} {text(origin.country)}^FS",
        "^FO40,120^GB730,3,3^FS",
        f"^FO40,150^A0N,40,40^FD{text(to.name)}^FS",
        f"^FO40,200^A0N,35,35^FD{text(to.line1)}^FS",
    ]
    y = 245
    if to.line2:
        lines.append(f"^FO40,{y}^A0N,35,35^FD{text(to.line2)}^FS")
        y += 45
    lines += [
        f"^FO40,{y}^A0N,35,35^FD{text(to.postal_code)} {text(to.city)}^FS",
        f"^FO40,{y + 45}^A0N,35,35^FD{text(to.country)}^FS",
        "^FO40,420^GB730,3,3^FS",
        f"^FO40,450^A0N,45,45^FD{text(chosen.carrier)} {text(chosen.service).upper()}^FS",
        f"^FO40,505^A0N,28,28^FDzone {text(chosen.zone)} - {parcel_count} parcel(s) - "
        f"{chosen.billable_grams} g^FS",
        f"^FO40,560^BY3^BCN,180,Y,N,N^FD{tracking}^FS",
        f"^FO40,800^A0N,25,25^FDref {text(request.reference)}^FS",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"


class RateCardCarriers:
    """The Carriers port over rate cards: every card is one carrier service."""

    def __init__(self, cards: Sequence[RateCard], version: str = "") -> None:
        self.cards = list(cards)
        self.version = version

    @classmethod
    def from_file(cls, path: Path = RATE_CARDS) -> RateCardCarriers:
        loaded = msgspec.json.decode(path.read_bytes(), type=RateCardFile)
        return cls(loaded.cards, loaded.version)

    def quotes(self, request: RateRequest) -> list[Quote]:
        found = []
        for card in self.cards:
            priced = quote(
                card,
                request.parcels,
                request.origin.country,
                request.destination.country,
                request.destination.postal_code,
            )
            if priced is not None:
                found.append(priced)
        return found

    def buy_label(
        self, request: RateRequest, carrier: str, service: str, label_format: LabelFormat = "zpl"
    ) -> Label:
        known = {(card.carrier, card.service) for card in self.cards}
        if (carrier, service) not in known:
            raise InvalidCommand(
                f"no carrier service {carrier} {service}; see GET .../rates for the choices",
                field="service",
            )
        chosen = next(
            (q for q in self.quotes(request) if (q.carrier, q.service) == (carrier, service)),
            None,
        )
        if chosen is None:
            raise NoRate(
                f"{carrier} {service} does not serve {request.origin.country} -> "
                f"{request.destination.country}"
            )
        tracking = tracking_number(carrier, request.reference)
        parcels = len(request.parcels)
        if label_format == "pdf":
            pdf = pdf_label(request, chosen, tracking, parcels)
            document = base64.b64encode(pdf).decode("ascii")
        else:
            document = zpl_label(request, chosen, tracking, parcels)
        return Label(
            carrier=carrier,
            service=service,
            tracking_number=tracking,
            cost=chosen.amount,
            label_format=label_format,
            label=document,
        )


def load_rate_cards(path: Path = RATE_CARDS) -> RateCardFile:
    return msgspec.json.decode(path.read_bytes(), type=RateCardFile)


def load_boxes(path: Path = BOXES) -> BoxFile:
    return msgspec.json.decode(path.read_bytes(), type=BoxFile)


class FileBoxCatalogue:
    def __init__(self, path: Path = BOXES) -> None:
        self._boxes = msgspec.json.decode(path.read_bytes(), type=BoxFile).boxes

    def boxes(self) -> Sequence[Box]:
        return self._boxes
