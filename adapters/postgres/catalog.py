"""Reads of the catalog table, which the event store writes in the events' own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from uuid import UUID

import msgspec
from eventsourcing.postgres import PostgresDatastore

from application.ports import CatalogView
from domain.location.model import Location
from domain.product.model import Product
from domain.store.model import Store

T = TypeVar("T")
_store = msgspec.json.Decoder(Store)
_location = msgspec.json.Decoder(Location)
_product = msgspec.json.Decoder(Product)

SELECT_VIEW = """
SELECT kind, code, state FROM catalog
WHERE tenant_id = %(tenant)s AND (
    (kind = 'store' AND code = %(store)s)
    OR kind = 'location'
    OR (kind = 'product' AND code = ANY(%(skus)s)))
ORDER BY kind, code
"""


class PostgresCatalog:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def view(self, tenant_id: UUID, store: str, skus: Sequence[str]) -> CatalogView:
        rows = self._rows(SELECT_VIEW, {"tenant": tenant_id, "store": store, "skus": list(skus)})
        found_store: Store | None = None
        products: dict[str, Product] = {}
        locations: list[Location] = []
        for kind, code, state in rows:
            if kind == "store":
                found_store = _store.decode(state)
            elif kind == "location":
                locations.append(_location.decode(state))
            else:
                products[code] = _product.decode(state)
        return CatalogView(found_store, products, locations)

    def locations(self, tenant_id: UUID) -> list[Location]:
        return [_location.decode(s) for s in self._states(tenant_id, "location")]

    def stores(self, tenant_id: UUID) -> list[Store]:
        return [_store.decode(s) for s in self._states(tenant_id, "store")]

    def product(self, tenant_id: UUID, sku: str) -> Product | None:
        rows = self._rows(
            "SELECT kind, code, state FROM catalog "
            "WHERE tenant_id = %s AND kind = 'product' AND code = %s",
            (tenant_id, sku),
        )
        return _product.decode(rows[0][2]) if rows else None

    def products(self, tenant_id: UUID, *, after: str | None, limit: int) -> list[Product]:
        rows = self._rows(
            "SELECT kind, code, state FROM catalog WHERE tenant_id = %s AND kind = 'product' "
            "AND code > %s ORDER BY code LIMIT %s",
            (tenant_id, after or "", limit),
        )
        return [_product.decode(state) for _, _, state in rows]

    def _states(self, tenant_id: UUID, kind: str) -> list[bytes]:
        rows = self._rows(
            "SELECT kind, code, state FROM catalog WHERE tenant_id = %s AND kind = %s "
            "ORDER BY code",
            (tenant_id, kind),
        )
        return [state for _, _, state in rows]

    def _rows(self, query: str, params: object) -> list[tuple[str, str, bytes]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, params, prepare=True)  # type: ignore[arg-type]
            return [(r["kind"], r["code"], bytes(r["state"])) for r in curs.fetchall()]
