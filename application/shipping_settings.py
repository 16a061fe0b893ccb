"""Per-tenant box catalogue and rate cards, falling back to the deployment's defaults. The
fulfilment use cases ask here for the tenant's carriers and boxes on every packing, rating and
label purchase, so a change applies to the next request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import msgspec

from application.context import CommandContext
from application.errors import check_version
from application.executor import Executor, Outcome
from application.kinds import SHIPPING_SETTINGS
from application.shipping import Carriers
from application.streams import Loaded, Streams
from domain.shared.ids import stream_id
from domain.shipment import settings
from domain.shipment.packing import Box
from domain.shipment.rates import RateCard
from domain.shipment.settings import ShippingSettings


class ShippingDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """The deployment's files (KONTOR_BOX_CATALOGUE, KONTOR_RATE_CARDS)."""

    boxes: list[Box]
    box_version: str
    cards: list[RateCard]
    card_version: str


class Effective(msgspec.Struct, frozen=True, kw_only=True):
    """What applies to a tenant, where it comes from (`tenant` or `default`), and the
    settings stream's version (the ETag for If-Match)."""

    boxes: list[Box]
    box_version: str
    box_source: str
    cards: list[RateCard]
    card_version: str
    card_source: str
    version: int


def settings_stream_id(tenant_id: UUID) -> UUID:
    return stream_id(tenant_id, "shipping_settings")


class ShippingSettingsCommands:
    def __init__(
        self,
        executor: Executor,
        streams: Streams,
        defaults: ShippingDefaults,
        carriers_for: Callable[[Sequence[RateCard], str], Carriers],
    ) -> None:
        self.executor = executor
        self.streams = streams
        self.defaults = defaults
        self.carriers_for = carriers_for
        self.default_carriers = carriers_for(defaults.cards, defaults.card_version)

    def effective(self, tenant_id: UUID) -> Effective:
        sid = settings_stream_id(tenant_id)
        return self._effective(self.streams.load({sid: SHIPPING_SETTINGS})[sid])

    def carriers(self, tenant_id: UUID) -> Carriers:
        current = self.effective(tenant_id)
        if current.card_source == "default":
            return self.default_carriers
        return self.carriers_for(current.cards, current.card_version)

    def boxes(self, tenant_id: UUID) -> Sequence[Box]:
        return self.effective(tenant_id).boxes

    def set_boxes(
        self,
        ctx: CommandContext,
        *,
        version: str,
        boxes: Sequence[Box],
        if_version: int | None = None,
    ) -> Effective:
        return self._change(
            ctx,
            if_version,
            lambda state: settings.set_boxes(state, version=version, boxes=boxes),
        )

    def set_cards(
        self,
        ctx: CommandContext,
        *,
        version: str,
        cards: Sequence[RateCard],
        if_version: int | None = None,
    ) -> Effective:
        return self._change(
            ctx,
            if_version,
            lambda state: settings.set_cards(state, version=version, cards=cards),
        )

    def clear_boxes(self, ctx: CommandContext, *, if_version: int | None = None) -> Effective:
        """Back to the deployment's box catalogue."""
        return self._change(ctx, if_version, settings.clear_boxes)

    def clear_cards(self, ctx: CommandContext, *, if_version: int | None = None) -> Effective:
        """Back to the deployment's rate cards."""
        return self._change(ctx, if_version, settings.clear_cards)

    def _change(
        self,
        ctx: CommandContext,
        if_version: int | None,
        decide: Callable[[ShippingSettings], list[settings.ShippingSettingsEvent]],
    ) -> Effective:
        sid = settings_stream_id(ctx.tenant_id)

        def decide_change(loaded: Mapping[UUID, Loaded[Any]]) -> Outcome[Effective]:
            check_version(if_version, loaded[sid].version, "shipping settings")
            return Outcome(
                {sid: list(decide(loaded[sid].state))}, lambda a: self._effective(a[sid])
            )

        return self.executor.execute(ctx, {sid: SHIPPING_SETTINGS}, decide_change)

    def _effective(self, loaded: Loaded[ShippingSettings]) -> Effective:
        own, fallback = loaded.state, self.defaults
        return Effective(
            boxes=own.boxes if own.boxes is not None else fallback.boxes,
            box_version=own.box_version or fallback.box_version,
            box_source="default" if own.boxes is None else "tenant",
            cards=own.cards if own.cards is not None else fallback.cards,
            card_version=own.card_version or fallback.card_version,
            card_source="default" if own.cards is None else "tenant",
            version=loaded.version,
        )
