"""Ports of the fulfilment slice: carriers (rate shopping and labels) and the box catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from domain.location.model import Location
from domain.order.events import Address
from domain.shipment.events import Parcel
from domain.shipment.packing import Box
from domain.shipment.rates import Quote
from domain.shipment.state import Label


class RateRequest(msgspec.Struct, frozen=True, kw_only=True):
    reference: str
    origin: Location
    destination: Address
    parcels: list[Parcel]


class Carriers(Protocol):
    def quotes(self, request: RateRequest) -> list[Quote]:
        """A quote from every configured carrier service that serves the route."""
        ...

    def buy_label(self, request: RateRequest, carrier: str, service: str) -> Label:
        """Buys a label: a tracking number, the label document and its cost. Buying twice for
        the same reference, carrier and service returns the same label."""
        ...


class BoxCatalogue(Protocol):
    def boxes(self) -> Sequence[Box]: ...
