"""A tenant's box catalogue and carrier rate cards: read what applies, replace either whole.

Without a tenant's own, the deployment's files apply (`source: default`); DELETE goes back to
them. The ETag is the settings' version; PUT and DELETE honour If-Match and Idempotency-Key.
Bad catalogues and cards are a 422 listing every field at fault, and nothing is stored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, put
from msgspec import Meta

from application.access import Permission, Principal
from application.shipping_settings import Effective
from domain.shipment.packing import Box
from domain.shipment.rates import RateCard
from interfaces.bootstrap import Container
from interfaces.http.support import if_match, json_response, run_command

Name = Annotated[str, Meta(min_length=1, max_length=64)]
Version = Annotated[str, Meta(min_length=1, max_length=64)]
Positive = Annotated[int, Meta(ge=1, le=10_000_000)]
Price = Decimal  # range checked by the domain, which names the field


class BoxIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Name
    length_mm: Positive
    width_mm: Positive
    height_mm: Positive
    max_weight_grams: Positive
    tare_grams: Annotated[int, Meta(ge=0, le=10_000_000)] = 0


class BoxesIn(msgspec.Struct, forbid_unknown_fields=True):
    version: Version
    boxes: Annotated[list[BoxIn], Meta(min_length=1, max_length=200)]


class BoxesOut(msgspec.Struct):
    version: str
    source: str
    boxes: list[BoxIn]


class ZoneRuleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    zone: Name
    countries: Annotated[list[str], Meta(min_length=1, max_length=300)]
    postal_prefixes: Annotated[list[str], Meta(max_length=1000)] = []


class WeightBreakIn(msgspec.Struct, forbid_unknown_fields=True):
    max_grams: Positive
    price: Price


class RateCardIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    carrier: Name
    service: Name
    origin_countries: Annotated[list[str], Meta(min_length=1, max_length=300)]
    currency: Annotated[str, Meta(pattern="^[A-Z]{3}$")]
    transit_days: dict[str, Annotated[int, Meta(ge=1, le=365)]]
    zones: Annotated[list[ZoneRuleIn], Meta(min_length=1, max_length=100)]
    prices: dict[str, Annotated[list[WeightBreakIn], Meta(min_length=1, max_length=100)]]
    per_extra_kg: dict[str, Price] = {}
    dim_divisor: Positive = 5000
    fuel_surcharge_percent: Decimal = Decimal(0)


class CarriersIn(msgspec.Struct, forbid_unknown_fields=True):
    version: Version
    cards: Annotated[list[RateCardIn], Meta(min_length=1, max_length=200)]


class CarriersOut(msgspec.Struct):
    version: str
    source: str
    cards: list[RateCardIn]


def _boxes(effective: Effective) -> tuple[int, BoxesOut, int]:
    boxes = msgspec.convert(msgspec.to_builtins(effective.boxes), list[BoxIn])
    return 200, BoxesOut(effective.box_version, effective.box_source, boxes), effective.version


def _carriers(effective: Effective) -> tuple[int, CarriersOut, int]:
    cards = msgspec.convert(msgspec.to_builtins(effective.cards), list[RateCardIn])
    body = CarriersOut(effective.card_version, effective.card_source, cards)
    return 200, body, effective.version


def _respond(rendered: tuple[int, Any, int]) -> Response[bytes]:
    status, body, version = rendered
    return json_response(status, msgspec.json.encode(body), version=version)


class ShippingSettingsController(Controller):
    path = "/v1/settings"
    tags = ["settings"]

    @get("/boxes", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def boxes(self, container: Container, principal: Principal) -> Response[bytes]:
        """The box catalogue packing recommendations use for this tenant."""
        return _respond(_boxes(container.shipping_settings.effective(principal.tenant_id)))

    @put("/boxes", sync_to_thread=True, permission=Permission.FULFILMENT_WRITE, every_store=True)
    def set_boxes(
        self,
        data: BoxesIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Replaces the tenant's box catalogue (all boxes, with a version of your choosing)."""
        boxes = msgspec.convert(msgspec.to_builtins(data.boxes), list[Box])
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.shipping_settings.set_boxes(
                ctx, version=data.version, boxes=boxes, if_version=expected
            ),
            _boxes,
        )

    @delete(
        "/boxes",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
        every_store=True,
        status_code=200,
    )
    def clear_boxes(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Response[bytes]:
        """Drops the tenant's box catalogue: the deployment's applies again."""
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            {"clear": "boxes"},
            lambda ctx: container.shipping_settings.clear_boxes(ctx, if_version=expected),
            _boxes,
        )

    @get("/carriers", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def carriers(self, container: Container, principal: Principal) -> Response[bytes]:
        """The rate cards (one per carrier service) rates and labels use for this tenant."""
        return _respond(_carriers(container.shipping_settings.effective(principal.tenant_id)))

    @put("/carriers", sync_to_thread=True, permission=Permission.FULFILMENT_WRITE, every_store=True)
    def set_carriers(
        self,
        data: CarriersIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Replaces the tenant's rate cards (every card, with a version of your choosing)."""
        cards = msgspec.convert(msgspec.to_builtins(data.cards), list[RateCard])
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.shipping_settings.set_cards(
                ctx, version=data.version, cards=cards, if_version=expected
            ),
            _carriers,
        )

    @delete(
        "/carriers",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
        every_store=True,
        status_code=200,
    )
    def clear_carriers(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> Response[bytes]:
        """Drops the tenant's rate cards: the deployment's apply again."""
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            {"clear": "carriers"},
            lambda ctx: container.shipping_settings.clear_cards(ctx, if_version=expected),
            _carriers,
        )
