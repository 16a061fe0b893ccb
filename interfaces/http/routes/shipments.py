"""Shipments: create from an order, pick lists, pick, pack, rates, label, ship, deliver, track."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from application.fulfilment import Rates
from application.streams import Loaded
from domain.shared.personal import ERASED
from domain.shipment.decide import PickCount
from domain.shipment.events import Parcel, ParcelLine
from domain.shipment.state import Shipment, ShipmentStatus
from interfaces.bootstrap import Container
from interfaces.http.fulfilment_schemas import (
    DeliverIn,
    LabelIn,
    PackIn,
    PackingOut,
    PickIn,
    PickListOut,
    PickOut,
    QuoteOut,
    RatesOut,
    ShipmentIn,
    ShipmentOut,
    ShipmentSummaryOut,
    SkuTotalOut,
    TrackingIn,
    WaveShipmentOut,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import Page
from interfaces.http.scope import location_in_scope, order_in_scope, shipment_in_scope
from interfaces.http.support import (
    if_match,
    json_response,
    page_after,
    page_of,
    run_command,
)
from projections.shipments import (
    FulfilmentTimes,
    PickWork,
    bins,
    fulfilment_times,
    list_shipments,
    open_shipments,
    pick_work,
)

Limit = Annotated[int, Parameter(ge=1, le=200)]
Wave = Annotated[int, Parameter(ge=1, le=10_000)]
WaveSize = Annotated[int, Parameter(ge=1, le=200)]
STATUSES = {status.value for status in ShipmentStatus}


def _shipment(status: int) -> Any:
    def render(loaded: Loaded[Shipment]) -> tuple[int, ShipmentOut, int]:
        return status, ShipmentOut.of(loaded.state, loaded.version), loaded.version

    return render


def shipments_page(
    container: Container,
    principal: Principal,
    *,
    status: str | None,
    location: str | None,
    order_id: UUID | None,
    limit: int,
    cursor: str | None,
    stores: frozenset[str] | None,
) -> Page[ShipmentSummaryOut]:
    """One page of shipments, newest first (the route below and the dashboard's Fulfilment
    page); `stores`: those the caller may see (None: all)."""
    if status is not None and status not in STATUSES:
        raise ApiProblem(
            400, "invalid_status", f"status must be one of {', '.join(sorted(STATUSES))}"
        )
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        rows = list_shipments(
            curs,
            principal.tenant_id,
            status=status,
            location=location,
            order_id=order_id,
            limit=limit + 1,
            after=page_after(cursor),
            stores=stores,
        )
    return page_of(
        rows,
        limit,
        lambda last: [last.created_at.isoformat(), str(last.id)],
        ShipmentSummaryOut.from_row,
    )


def pick_list_for(
    container: Container, principal: Principal, location: str, wave: int, wave_size: int
) -> PickListOut:
    """The pick list of one wave at a location (the route below, and the dashboard's page)."""
    location_in_scope(container, principal, location)
    with tenant_reads(container.datastore, principal.tenant_id) as curs:
        batch = open_shipments(
            curs,
            principal.tenant_id,
            location,
            offset=(wave - 1) * wave_size,
            limit=wave_size + 1,
            stores=principal.stores,
        )
        more = len(batch) > wave_size
        batch = batch[:wave_size]
        skus = sorted({line.sku for s in batch for line in s.lines.values()})
        slots = bins(curs, principal.tenant_id, location, skus) if skus else {}
    picks: list[PickOut] = []
    for shipment in batch:
        assert shipment.id is not None
        for line in shipment.lines.values():
            if line.to_pick > 0:
                picks.append(
                    PickOut(
                        slots.get(line.sku),
                        line.sku,
                        line.to_pick,
                        shipment.id,
                        line.line_no,
                        shipment.priority,
                    )
                )
    picks.sort(key=lambda p: (p.bin is None, p.bin or "", p.priority != "expedited", p.sku))
    totals: dict[str, int] = {}
    for p in picks:
        totals[p.sku] = totals.get(p.sku, 0) + p.quantity
    return PickListOut(
        location=location,
        wave=wave,
        wave_size=wave_size,
        shipments=[
            WaveShipmentOut(s.id, s.order_id, s.priority, s.created_at)  # type: ignore[arg-type]
            for s in batch
        ],
        picks=picks,
        totals=sorted(
            (SkuTotalOut(sku, slots.get(sku), qty) for sku, qty in totals.items()),
            key=lambda t: (t.bin is None, t.bin or "", t.sku),
        ),
        next_wave=wave + 1 if more else None,
    )


class ShipmentController(Controller):
    path = "/v1"
    tags = ["shipments"]

    @post(
        "/orders/{order_id:uuid}/shipments",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def create(
        self,
        order_id: UUID,
        data: ShipmentIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Creates a shipment of the order's allocated units at a location (by default all of
        them not yet in another shipment). Lines never exceed what is allocated there."""
        order_in_scope(container, principal, order_id)
        lines = None
        if data.lines is not None:
            lines = {}
            for line in data.lines:
                lines[line.line_no] = lines.get(line.line_no, 0) + line.quantity
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.fulfilment.create(
                ctx, order_id, location=data.location, lines=lines, priority=data.priority
            ),
            _shipment(201),
        )

    @get("/shipments", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def list(
        self,
        container: Container,
        principal: Principal,
        status: str | None = None,
        location: str | None = None,
        order_id: UUID | None = None,
        limit: Limit = 50,
        cursor: str | None = None,
    ) -> Page[ShipmentSummaryOut]:
        """Shipments, newest first (read model; see /ready for its lag)."""
        return shipments_page(
            container,
            principal,
            status=status,
            location=location,
            order_id=order_id,
            limit=limit,
            cursor=cursor,
            stores=principal.stores,
        )

    @get(
        "/shipments/{shipment_id:uuid}", sync_to_thread=True, permission=Permission.FULFILMENT_READ
    )
    def detail(
        self, shipment_id: UUID, container: Container, principal: Principal
    ) -> Response[bytes]:
        """One shipment with its status timeline, read from its stream. ETag is its version."""
        shipment_in_scope(container, principal, shipment_id)
        loaded = container.fulfilment.get(principal.tenant_id, shipment_id)
        body = msgspec.json.encode(ShipmentOut.of(loaded.state, loaded.version))
        return json_response(200, body, version=loaded.version)

    @get(
        "/shipments/{shipment_id:uuid}/packing",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_READ,
    )
    def packing(self, shipment_id: UUID, container: Container, principal: Principal) -> PackingOut:
        """The recommended parcels: the smallest boxes of the catalogue that hold the units."""
        shipment_in_scope(container, principal, shipment_id)
        parcels = container.fulfilment.recommend(principal.tenant_id, shipment_id)
        return PackingOut(shipment_id, parcels)

    @get(
        "/shipments/{shipment_id:uuid}/rates",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_READ,
    )
    def rates(self, shipment_id: UUID, container: Container, principal: Principal) -> RatesOut:
        """Quotes from every configured carrier service, the cheapest and the fastest marked."""
        shipment_in_scope(container, principal, shipment_id)
        rates: Rates = container.fulfilment.rates(principal.tenant_id, shipment_id)
        quotes = [QuoteOut.of(q, rates.cheapest, rates.fastest) for q in rates.quotes]
        return RatesOut(shipment_id, rates.parcels, quotes)

    @get(
        "/shipments/{shipment_id:uuid}/label",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_READ,
    )
    def label_document(
        self, shipment_id: UUID, container: Container, principal: Principal
    ) -> Response[bytes]:
        """The bought label's document: ZPL for thermal printers, or PDF, as it was bought."""
        shipment_in_scope(container, principal, shipment_id)
        label = container.fulfilment.get(principal.tenant_id, shipment_id).state.label
        if label is None:
            raise ApiProblem(404, "no_label", "no label has been bought for this shipment")
        if label.label == ERASED:
            raise ApiProblem(
                410, "label_erased", "the recipient was erased: their label no longer exists"
            )
        if label.label_format == "pdf":
            document, media_type = base64.b64decode(label.label), "application/pdf"
        else:
            document, media_type = label.label.encode(), "application/zpl"
        name = f"{label.tracking_number}.{label.label_format}"
        return Response(
            document,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post(
        "/shipments/{shipment_id:uuid}/pick",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def pick(
        self,
        shipment_id: UUID,
        data: PickIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Records picked units per line, and units explicitly reported `short` (not found).
        Short units are released, or with `reroute_short` reserved at other locations."""
        shipment_in_scope(container, principal, shipment_id)
        counts = [PickCount(line.line_no, line.picked, line.short) for line in data.lines]
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.fulfilment.pick(
                ctx, shipment_id, counts=counts, reroute=data.reroute_short, if_version=expected
            ),
            _shipment(200),
        )

    @post(
        "/shipments/{shipment_id:uuid}/pack",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def pack(
        self,
        shipment_id: UUID,
        data: PackIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Packs the picked units into parcels; without `parcels`, into the recommended boxes."""
        shipment_in_scope(container, principal, shipment_id)
        parcels = None
        if data.parcels is not None:
            parcels = [
                Parcel(
                    length_mm=p.length_mm,
                    width_mm=p.width_mm,
                    height_mm=p.height_mm,
                    weight_grams=p.weight_grams,
                    lines=[ParcelLine(x.line_no, x.quantity) for x in p.lines],
                )
                for p in data.parcels
            ]
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.fulfilment.pack(
                ctx, shipment_id, parcels=parcels, if_version=expected
            ),
            _shipment(200),
        )

    @post(
        "/shipments/{shipment_id:uuid}/label",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def buy_label(
        self,
        shipment_id: UUID,
        data: LabelIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Buys a label from a carrier service: tracking number, document (`format`: zpl, the
        default, or pdf), cost."""
        shipment_in_scope(container, principal, shipment_id)
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.fulfilment.label(
                ctx,
                shipment_id,
                carrier=data.carrier,
                service=data.service,
                label_format=data.format,
                if_version=expected,
            ),
            _shipment(200),
        )

    @post(
        "/shipments/{shipment_id:uuid}/ship",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def ship(
        self,
        shipment_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """Ships the packed parcels: commits the reservations (on hand and reserved drop) and
        marks the order's lines shipped, in one atomic append."""
        shipment_in_scope(container, principal, shipment_id)
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            {"ship": str(shipment_id)},
            lambda ctx: container.fulfilment.ship(ctx, shipment_id, if_version=expected),
            _shipment(200),
        )

    @post(
        "/shipments/{shipment_id:uuid}/deliver",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def deliver(
        self,
        shipment_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
        data: DeliverIn | None = None,
    ) -> Response[bytes]:
        """Marks a shipped shipment delivered (a repeated delivery changes nothing)."""
        shipment_in_scope(container, principal, shipment_id)
        body = data or DeliverIn()
        expected = if_match(request)
        return run_command(
            request,
            container,
            principal,
            {"deliver": str(shipment_id), "at": body.delivered_at},
            lambda ctx: container.fulfilment.deliver(
                ctx, shipment_id, delivered_at=body.delivered_at, if_version=expected
            ),
            _shipment(200),
        )

    @post(
        "/shipments/{shipment_id:uuid}/tracking-events",
        sync_to_thread=True,
        permission=Permission.FULFILMENT_WRITE,
    )
    def tracking(
        self,
        shipment_id: UUID,
        data: TrackingIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> Response[bytes]:
        """A carrier's tracking update: in transit, out for delivery, delivered, exception."""
        shipment_in_scope(container, principal, shipment_id)
        return run_command(
            request,
            container,
            principal,
            data,
            lambda ctx: container.fulfilment.track(
                ctx,
                shipment_id,
                status=data.status,
                description=data.description,
                occurred_at=data.occurred_at,
                place=data.place,
            ),
            _shipment(201),
        )

    @get("/pick-lists", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def pick_list(
        self,
        container: Container,
        principal: Principal,
        location: str,
        wave: Wave = 1,
        wave_size: WaveSize = 25,
    ) -> PickListOut:
        """A batch (wave) of open shipments at a location, expedited first then oldest first,
        with picks in bin order (expedited first within a bin) and totals per SKU."""
        return pick_list_for(container, principal, location, wave, wave_size)

    @get("/pick-work", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def open_pick_work(self, container: Container, principal: Principal) -> list[PickWork]:
        """Open pick work per location: shipments not yet picked, expedited ones, units (of the
        caller's stores)."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            return pick_work(curs, principal.tenant_id, principal.stores)

    @get("/fulfilment-times", sync_to_thread=True, permission=Permission.FULFILMENT_READ)
    def times(
        self,
        container: Container,
        principal: Principal,
        store: str | None = None,
        location: str | None = None,
        since: datetime | None = None,
    ) -> FulfilmentTimes:
        """Placed -> shipped and shipped -> delivered, in hours: average, median, 90th pct."""
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            return fulfilment_times(
                curs,
                principal.tenant_id,
                store=store,
                location=location,
                since=since,
                stores=principal.stores,
            )
