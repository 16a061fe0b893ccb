"""Use cases for shipments: create, pick, pack, rate, label, ship, deliver, track.

Every command that moves stock or the order appends the shipment, the order and the stock
streams together in one atomic append (see domain/shipment/decide.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.context import CommandContext
from application.errors import UnknownLocation, check_version
from application.executor import Executor, Outcome
from application.kinds import ORDER, SHIPMENT, STOCK
from application.ports import Catalog
from application.shipping import LabelFormat, RateRequest, TenantShipping
from application.streams import Kind, Loaded, Streams
from domain.location.model import Location
from domain.order.decide import Decision
from domain.order.errors import OrderNotFound
from domain.order.state import Order
from domain.shared.events import DomainEvent
from domain.shared.ids import stock_stream_id
from domain.shipment import decide
from domain.shipment.errors import ShipmentNotFound
from domain.shipment.events import Parcel
from domain.shipment.packing import recommend
from domain.shipment.rates import Quote
from domain.shipment.state import Shipment, ShipmentStatus

StockKey = tuple[str, str]


class Rates(msgspec.Struct, frozen=True):
    quotes: list[Quote]
    cheapest: Quote | None
    fastest: Quote | None
    parcels: list[Parcel]


def _now() -> datetime:
    return datetime.now(UTC)


def _events(
    order_id: UUID, decision: Decision, stock_ids: Mapping[StockKey, UUID]
) -> dict[UUID, list[DomainEvent]]:
    events: dict[UUID, list[DomainEvent]] = {}
    if decision.order:
        events[order_id] = list(decision.order)
    for key, stock_events in decision.stock.items():
        events[stock_ids[key]] = list(stock_events)
    for shipment_id, shipment_events in decision.shipments.items():
        events[shipment_id] = list(shipment_events)
    return events


class FulfilmentCommands:
    def __init__(
        self,
        executor: Executor,
        streams: Streams,
        catalog: Catalog,
        shipping: TenantShipping,
    ) -> None:
        self.executor = executor
        self.streams = streams
        self.catalog = catalog
        self.shipping = shipping

    # --- reading -----------------------------------------------------------------------------

    def get(self, tenant_id: UUID, shipment_id: UUID) -> Loaded[Shipment]:
        loaded = self.streams.load({shipment_id: SHIPMENT})[shipment_id]
        if not loaded.owned_by(tenant_id):
            raise ShipmentNotFound(f"no shipment {shipment_id}")
        return loaded

    def _order(self, tenant_id: UUID, order_id: UUID) -> Order:
        loaded = self.streams.load({order_id: ORDER})[order_id]
        if not loaded.owned_by(tenant_id):
            raise OrderNotFound(f"no order {order_id}")
        state: Order = loaded.state
        return state

    def _location(self, tenant_id: UUID, code: str) -> Location:
        for location in self.catalog.locations(tenant_id):
            if location.code == code:
                return location
        raise UnknownLocation(f"unknown location {code!r}", field="location")

    def _stock(
        self, tenant_id: UUID, keys: Sequence[StockKey]
    ) -> tuple[dict[StockKey, UUID], dict[UUID, Kind[Any]]]:
        ids = {key: stock_stream_id(tenant_id, *key) for key in dict.fromkeys(keys)}
        return ids, dict.fromkeys(ids.values(), STOCK)

    # --- commands ----------------------------------------------------------------------------

    def create(
        self,
        ctx: CommandContext,
        order_id: UUID,
        *,
        location: str,
        lines: Mapping[int, int] | None = None,
        priority: str = "standard",
    ) -> Loaded[Shipment]:
        self._order(ctx.tenant_id, order_id)
        self._location(ctx.tenant_id, location)
        shipment_id = uuid4()

        def decide_create(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Shipment]]:
            decision = decide.create(
                loaded[order_id].state,
                shipment_id=shipment_id,
                location=location,
                lines=lines,
                priority=priority,
                now=_now(),
            )
            return Outcome(_events(order_id, decision, {}), lambda after: after[shipment_id])

        kinds: dict[UUID, Kind[Any]] = {order_id: ORDER, shipment_id: SHIPMENT}
        return self.executor.execute(ctx, kinds, decide_create)

    def pick(
        self,
        ctx: CommandContext,
        shipment_id: UUID,
        *,
        counts: Sequence[decide.PickCount],
        reroute: bool = False,
        if_version: int | None = None,
    ) -> Loaded[Shipment]:
        shipment = self.get(ctx.tenant_id, shipment_id).state
        assert shipment.order_id is not None
        order_id = shipment.order_id
        skus = [line.sku for line in shipment.lines.values()]
        locations = self.catalog.locations(ctx.tenant_id) if reroute else []
        codes = [location.code for location in locations] or [shipment.location]
        stock_ids, stock_kinds = self._stock(
            ctx.tenant_id, [(sku, code) for sku in skus for code in codes]
        )
        kinds: dict[UUID, Kind[Any]] = {shipment_id: SHIPMENT, order_id: ORDER}
        kinds |= stock_kinds

        def decide_pick(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Shipment]]:
            check_version(if_version, loaded[shipment_id].version, f"shipment {shipment_id}")
            decision = decide.pick(
                loaded[shipment_id].state,
                loaded[order_id].state,
                counts=counts,
                stock={key: loaded[sid].state for key, sid in stock_ids.items()},
                reroute=reroute,
                locations=locations,
                now=_now(),
            )
            return Outcome(_events(order_id, decision, stock_ids), lambda a: a[shipment_id])

        return self.executor.execute(ctx, kinds, decide_pick)

    def recommend(self, tenant_id: UUID, shipment_id: UUID) -> list[Parcel]:
        """The smallest boxes of the catalogue for the shipment's picked (or else planned) units."""
        shipment = self.get(tenant_id, shipment_id).state
        picked = shipment.status not in (ShipmentStatus.CREATED, ShipmentStatus.PICKING)
        lines = {
            no: (line.sku, line.picked if picked else line.quantity - line.short)
            for no, line in shipment.lines.items()
        }
        lines = {no: item for no, item in lines.items() if item[1] > 0}
        products = {}
        for sku, _ in lines.values():
            product = self.catalog.product(tenant_id, sku)
            if product is not None:
                products[sku] = product
        return recommend(lines, products, self.shipping.boxes(tenant_id))

    def pack(
        self,
        ctx: CommandContext,
        shipment_id: UUID,
        *,
        parcels: Sequence[Parcel] | None,
        if_version: int | None = None,
    ) -> Loaded[Shipment]:
        """Packs the given parcels, or the recommended ones when `parcels` is None."""
        decide.check_packable(self.get(ctx.tenant_id, shipment_id).state)
        chosen = (
            list(parcels) if parcels is not None else self.recommend(ctx.tenant_id, shipment_id)
        )

        def decide_pack(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Shipment]]:
            check_version(if_version, loaded[shipment_id].version, f"shipment {shipment_id}")
            events = decide.pack(loaded[shipment_id].state, parcels=chosen, now=_now())
            return Outcome({shipment_id: list(events)}, lambda after: after[shipment_id])

        return self.executor.execute(ctx, {shipment_id: SHIPMENT}, decide_pack)

    def _rate_request(self, tenant_id: UUID, shipment: Shipment) -> RateRequest:
        assert shipment.id is not None
        assert shipment.destination is not None
        parcels = shipment.parcels or self.recommend(tenant_id, shipment.id)
        return RateRequest(
            reference=str(shipment.id),
            origin=self._location(tenant_id, shipment.location),
            destination=shipment.destination,
            parcels=parcels,
        )

    def rates(self, tenant_id: UUID, shipment_id: UUID) -> Rates:
        """Quotes of every carrier service for the packed parcels (or the recommended ones)."""
        shipment = self.get(tenant_id, shipment_id).state
        request = self._rate_request(tenant_id, shipment)
        quotes = sorted(
            self.shipping.carriers(tenant_id).quotes(request),
            key=lambda q: (q.amount.currency, q.amount.amount, q.transit_days),
        )
        cheapest = min(quotes, key=lambda q: (q.amount.amount, q.transit_days), default=None)
        fastest = min(quotes, key=lambda q: (q.transit_days, q.amount.amount), default=None)
        return Rates(quotes, cheapest, fastest, request.parcels)

    def label(
        self,
        ctx: CommandContext,
        shipment_id: UUID,
        *,
        carrier: str,
        service: str,
        label_format: LabelFormat = "zpl",
        if_version: int | None = None,
    ) -> Loaded[Shipment]:
        """Buys the label through the carrier port, then records it (tracking number, cost)."""
        shipment = self.get(ctx.tenant_id, shipment_id).state
        decide.check_labellable(shipment)
        bought = self.shipping.carriers(ctx.tenant_id).buy_label(
            self._rate_request(ctx.tenant_id, shipment), carrier, service, label_format
        )

        def decide_label(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Shipment]]:
            check_version(if_version, loaded[shipment_id].version, f"shipment {shipment_id}")
            events = decide.label(loaded[shipment_id].state, bought=bought, now=_now())
            return Outcome({shipment_id: list(events)}, lambda after: after[shipment_id])

        return self.executor.execute(ctx, {shipment_id: SHIPMENT}, decide_label)

    def ship(
        self, ctx: CommandContext, shipment_id: UUID, *, if_version: int | None = None
    ) -> Loaded[Shipment]:
        shipment = self.get(ctx.tenant_id, shipment_id).state
        assert shipment.order_id is not None
        order_id = shipment.order_id
        stock_ids, stock_kinds = self._stock(
            ctx.tenant_id, [(line.sku, shipment.location) for line in shipment.lines.values()]
        )
        kinds: dict[UUID, Kind[Any]] = {shipment_id: SHIPMENT, order_id: ORDER}
        kinds |= stock_kinds

        def decide_ship(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Shipment]]:
            check_version(if_version, loaded[shipment_id].version, f"shipment {shipment_id}")
            decision = decide.ship(
                loaded[shipment_id].state,
                loaded[order_id].state,
                stock={key: loaded[sid].state for key, sid in stock_ids.items()},
                now=_now(),
            )
            return Outcome(_events(order_id, decision, stock_ids), lambda a: a[shipment_id])

        return self.executor.execute(ctx, kinds, decide_ship)

    def deliver(
        self,
        ctx: CommandContext,
        shipment_id: UUID,
        *,
        delivered_at: datetime | None = None,
        if_version: int | None = None,
    ) -> Loaded[Shipment]:
        return self._on_shipment_and_order(
            ctx,
            shipment_id,
            if_version,
            lambda shipment: decide.deliver(shipment, delivered_at=delivered_at or _now()),
        )

    def track(
        self,
        ctx: CommandContext,
        shipment_id: UUID,
        *,
        status: str,
        description: str,
        occurred_at: datetime | None = None,
        place: str | None = None,
    ) -> Loaded[Shipment]:
        return self._on_shipment_and_order(
            ctx,
            shipment_id,
            None,
            lambda shipment: decide.track(
                shipment,
                status=status,
                description=description,
                occurred_at=occurred_at or _now(),
                place=place,
            ),
        )

    def _on_shipment_and_order(
        self,
        ctx: CommandContext,
        shipment_id: UUID,
        if_version: int | None,
        command: Any,
    ) -> Loaded[Shipment]:
        shipment = self.get(ctx.tenant_id, shipment_id).state
        assert shipment.order_id is not None
        order_id = shipment.order_id

        def decide_it(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Shipment]]:
            check_version(if_version, loaded[shipment_id].version, f"shipment {shipment_id}")
            decision = command(loaded[shipment_id].state)
            return Outcome(_events(order_id, decision, {}), lambda a: a[shipment_id])

        kinds: dict[UUID, Kind[Any]] = {shipment_id: SHIPMENT, order_id: ORDER}
        return self.executor.execute(ctx, kinds, decide_it)
