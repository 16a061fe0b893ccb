"""Stock movements: the history of a SKU's ledger, every movement with time and reference."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from adapters.postgres.isolation import tenant_reads
from application.access import Permission, Principal
from interfaces.bootstrap import Container
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import Page
from interfaces.http.scope import visible_locations
from interfaces.http.support import Cursor, page_of
from projections.movements import KINDS, MovementRow, list_movements

Limit = Annotated[int, Parameter(ge=1, le=500)]


class MovementOut(msgspec.Struct):
    """`quantity` units moved; the changes are what the movement did to on hand and reserved."""

    sku: str
    location: str
    kind: str
    quantity: int
    on_hand_change: int
    reserved_change: int
    order_id: UUID | None
    line_no: int | None
    reference: str | None
    actor: str
    occurred_at: datetime

    @classmethod
    def of(cls, row: MovementRow) -> MovementOut:
        fields = msgspec.structs.asdict(row)
        del fields["seq"]
        return cls(**fields)


class MovementController(Controller):
    path = "/v1/inventory"
    tags = ["stock"]

    @get("/{sku:str}/movements", sync_to_thread=True, permission=Permission.STOCK_READ)
    def movements(
        self,
        sku: str,
        container: Container,
        principal: Principal,
        location: str | None = None,
        kind: str | None = None,
        limit: Limit = 100,
        cursor: str | None = None,
    ) -> Page[MovementOut]:
        """Every movement of a SKU (at one location with `location`), newest first: received,
        adjusted, transferred_out/in, reserved, released, committed (shipped), expired,
        restocked (read model; see /ready for its lag). A caller limited to some stores sees
        the locations that fulfil them."""
        if kind is not None and kind not in KINDS:
            raise ApiProblem(400, "invalid_kind", f"kind must be one of {', '.join(KINDS)}")
        after = Cursor.decode(cursor)
        if after is not None and (len(after) != 1 or not isinstance(after[0], int)):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API issued")
        visible = visible_locations(container, principal)
        with tenant_reads(container.datastore, principal.tenant_id) as curs:
            rows = list_movements(
                curs,
                principal.tenant_id,
                sku,
                location=location,
                kind=kind,
                limit=limit + 1,
                before=after[0] if after else None,
                locations=visible,
                stores=principal.stores,
            )
        return page_of(rows, limit, lambda last: [last.seq], MovementOut.of)
