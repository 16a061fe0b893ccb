"""Ports of the fulfilment slice: carriers (rate shopping and labels) and the box catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from domain.location.model import Location
from domain.order.events import Address
from domain.shipment.events import Parcel
from domain.shipment.packing import Box
from domain.shipment.rates import Quote
from domain.shipment.state import Label

LabelFormat = Literal["zpl", "pdf"]


class RateRequest(msgspec.Struct, frozen=True, kw_only=True):
    reference: str
    origin: Location
    destination: Address
    parcels: list[Parcel]


class Carriers(Protocol):
    def quotes(self, request: RateRequest) -> list[Quote]:
        """A quote from every configured carrier service that serves the route."""
        ...

    def buy_label(
        self, request: RateRequest, carrier: str, service: str, label_format: LabelFormat = "zpl"
    ) -> Label:
        """Buys a label: a tracking number, the label document and its cost. Buying twice for
        the same reference, carrier and service returns the same label. The document is ZPL
        text, or a PDF kept as base64 text (events and JSON hold text)."""
        ...


class BoxCatalogue(Protocol):
    def boxes(self) -> Sequence[Box]: ...


class TenantShipping(Protocol):
    """The carriers and boxes that apply to a tenant: its own, else the deployment's."""

    def carriers(self, tenant_id: UUID) -> Carriers: ...

    def boxes(self, tenant_id: UUID) -> Sequence[Box]: ...
