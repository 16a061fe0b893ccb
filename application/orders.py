"""Use cases for orders. Placing and cancelling append the order and its stock atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import msgspec

from application.context import CommandContext
from application.customers import CustomerDirectory
from application.errors import check_version
from application.executor import Executor, Outcome
from application.kinds import ORDER, SHIPMENT, STOCK
from application.ports import Catalog
from application.streams import Kind, Loaded, Streams
from domain.order import decide
from domain.order.errors import OrderNotFound
from domain.order.events import Address, Customer, Discount
from domain.order.state import Order
from domain.shared.events import DomainEvent
from domain.shared.ids import imported_order_id, stock_stream_id
from domain.stock.state import Stock
from domain.store.model import Store


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    store: str
    channel: str
    external_id: str | None
    currency: str
    customer: Customer
    shipping_address: Address
    lines: list[decide.RequestedLine]
    discount: Discount | None = None
    shipping_charge: Decimal | None = None
    placed_at: datetime | None = None  # imports and seeded history; otherwise now


class Placed(msgspec.Struct, frozen=True):
    order: Loaded[Order]
    created: bool


class OrderCommands:
    def __init__(
        self,
        executor: Executor,
        streams: Streams,
        catalog: Catalog,
        customers: CustomerDirectory,
    ) -> None:
        self.executor = executor
        self.streams = streams
        self.catalog = catalog
        self.customers = customers

    def get(self, tenant_id: UUID, order_id: UUID) -> Loaded[Order]:
        loaded = self.streams.load({order_id: ORDER})[order_id]
        if not loaded.owned_by(tenant_id):
            raise OrderNotFound(f"no order {order_id}")
        return loaded

    def place(self, ctx: CommandContext, new: NewOrder) -> Placed:
        if new.external_id is not None:
            order_id = imported_order_id(ctx.tenant_id, new.channel, new.external_id)
        else:
            order_id = uuid4()
        view = self.catalog.view(ctx.tenant_id, new.store, [line.sku for line in new.lines])
        stock_keys = {
            stock_stream_id(ctx.tenant_id, line.sku, location.code): (line.sku, location.code)
            for line in new.lines
            for location in view.locations
        }
        kinds: dict[UUID, Kind[Any]] = {order_id: ORDER} | dict.fromkeys(stock_keys, STOCK)
        command = decide.PlaceOrder(
            order_id=order_id,
            store=new.store,
            channel=new.channel,
            external_id=new.external_id,
            currency=new.currency,
            customer=new.customer,
            shipping_address=new.shipping_address,
            lines=new.lines,
            placed_at=new.placed_at or datetime.now(UTC),
            discount=new.discount,
            shipping_charge=new.shipping_charge,
            customer_id=self.customers.identify(ctx.tenant_id, new.customer.email),
        )

        def decide_placement(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Placed]:
            existing = loaded[order_id]
            if existing.version > 0:
                return Outcome({}, lambda after: Placed(after[order_id], created=False))
            decision = decide.place(
                existing.state,
                command,
                store=view.store or Store(),
                products=view.products,
                stock={key: loaded[sid].state for sid, key in stock_keys.items()},
                locations=view.locations,
            )
            return Outcome(
                _per_stream(order_id, decision, stock_keys),
                lambda after: Placed(after[order_id], created=True),
            )

        return self.executor.execute(ctx, kinds, decide_placement)

    def hold(
        self, ctx: CommandContext, order_id: UUID, *, reason: str, if_version: int | None = None
    ) -> Loaded[Order]:
        return self._on_order(ctx, order_id, if_version, lambda o: decide.hold(o, reason=reason))

    def release(
        self, ctx: CommandContext, order_id: UUID, *, if_version: int | None = None
    ) -> Loaded[Order]:
        return self._on_order(ctx, order_id, if_version, decide.release)

    def confirm(
        self, ctx: CommandContext, order_id: UUID, *, if_version: int | None = None
    ) -> Loaded[Order]:
        """Confirmed (paid) orders keep their reservations past the store's TTL."""
        return self._on_order(
            ctx, order_id, if_version, lambda o: decide.confirm(o, now=datetime.now(UTC))
        )

    def cancel(
        self,
        ctx: CommandContext,
        order_id: UUID,
        *,
        reason: str,
        lines: Mapping[int, int] | None = None,
        if_version: int | None = None,
    ) -> Loaded[Order]:
        order = self.get(ctx.tenant_id, order_id).state
        stock_keys = {
            stock_stream_id(ctx.tenant_id, line.sku, location): (line.sku, location)
            for line in order.lines.values()
            for location in line.allocations
        }
        open_shipments = [sid for sid, ref in order.shipments.items() if ref.unshipped]
        kinds: dict[UUID, Kind[Any]] = (
            {order_id: ORDER}
            | dict.fromkeys(stock_keys, STOCK)
            | dict.fromkeys(open_shipments, SHIPMENT)
        )

        def decide_cancel(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Order]]:
            current = loaded[order_id]
            check_version(if_version, current.version, f"order {order_id}")
            stock: dict[tuple[str, str], Stock] = {
                key: loaded[sid].state for sid, key in stock_keys.items()
            }
            decision = decide.cancel(
                current.state, stock=stock, reason=reason, lines=lines, now=datetime.now(UTC)
            )
            return Outcome(
                _per_stream(order_id, decision, stock_keys), lambda after: after[order_id]
            )

        return self.executor.execute(ctx, kinds, decide_cancel)

    def edit(
        self,
        ctx: CommandContext,
        order_id: UUID,
        *,
        changes: Sequence[decide.LineChange],
        added: Sequence[decide.RequestedLine],
        if_version: int | None = None,
    ) -> Loaded[Order]:
        """Changes, removes and adds lines before picking: the order, every stock stream it
        reserves or releases and its open shipments in one append."""
        order = self.get(ctx.tenant_id, order_id).state
        skus = [line.sku for line in order.lines.values()] + [line.sku for line in added]
        view = self.catalog.view(ctx.tenant_id, order.store, skus)
        keys = {(sku, location.code) for sku in skus for location in view.locations}
        keys |= {
            (line.sku, location) for line in order.lines.values() for location in line.allocations
        }
        stock_keys = {stock_stream_id(ctx.tenant_id, *key): key for key in sorted(keys)}
        open_shipments = [sid for sid, ref in order.shipments.items() if ref.unshipped]
        kinds: dict[UUID, Kind[Any]] = (
            {order_id: ORDER}
            | dict.fromkeys(stock_keys, STOCK)
            | dict.fromkeys(open_shipments, SHIPMENT)
        )

        def decide_edit(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Order]]:
            current = loaded[order_id]
            check_version(if_version, current.version, f"order {order_id}")
            decision = decide.edit(
                current.state,
                changes=changes,
                added=added,
                store=view.store or Store(),
                products=view.products,
                stock={key: loaded[sid].state for sid, key in stock_keys.items()},
                locations=view.locations,
                now=datetime.now(UTC),
            )
            return Outcome(
                _per_stream(order_id, decision, stock_keys), lambda after: after[order_id]
            )

        return self.executor.execute(ctx, kinds, decide_edit)

    def _on_order(
        self,
        ctx: CommandContext,
        order_id: UUID,
        if_version: int | None,
        command: Any,
    ) -> Loaded[Order]:
        self.get(ctx.tenant_id, order_id)

        def decide_on_order(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Loaded[Order]]:
            current = loaded[order_id]
            check_version(if_version, current.version, f"order {order_id}")
            return Outcome({order_id: list(command(current.state))}, lambda a: a[order_id])

        return self.executor.execute(ctx, {order_id: ORDER}, decide_on_order)


def _per_stream(
    order_id: UUID, decision: decide.Decision, stock_keys: Mapping[UUID, tuple[str, str]]
) -> dict[UUID, list[DomainEvent]]:
    """The decision's events keyed by stream id (stock streams are keyed by sku, location)."""
    stream_of = {key: stream_id for stream_id, key in stock_keys.items()}
    events: dict[UUID, list[DomainEvent]] = {order_id: list(decision.order)}
    for key, stock_events in decision.stock.items():
        events[stream_of[key]] = list(stock_events)
    for shipment_id, shipment_events in decision.shipments.items():
        events[shipment_id] = list(shipment_events)
    return events
