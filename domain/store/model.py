"""Store: a sales channel's shop front with its currency and backorder policy."""

from __future__ import annotations

import msgspec

from domain.shared.events import DomainEvent
from domain.shared.money import check_currency
from domain.shared.reference import AlreadyExists, check_code


class StoreOpened(DomainEvent, frozen=True, kw_only=True):
    aggregate = "store"
    code: str
    name: str
    currency: str
    allow_backorders: bool = False


class Store(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    name: str = ""
    currency: str = ""
    allow_backorders: bool = False
    exists: bool = False


def evolve(event: StoreOpened, state: Store) -> Store:
    return Store(
        code=event.code,
        name=event.name,
        currency=event.currency,
        allow_backorders=event.allow_backorders,
        exists=True,
    )


def open_store(
    state: Store, *, code: str, name: str, currency: str, allow_backorders: bool
) -> list[StoreOpened]:
    if state.exists:
        raise AlreadyExists(f"store {code!r} already exists")
    return [
        StoreOpened(
            code=check_code(code, "store code"),
            name=name,
            currency=check_currency(currency),
            allow_backorders=allow_backorders,
        )
    ]
