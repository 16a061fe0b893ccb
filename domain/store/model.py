"""Store: a sales channel's shop front with its currency and backorder policy."""

from __future__ import annotations

import msgspec

from domain.shared.errors import InvalidCommand
from domain.shared.events import DomainEvent
from domain.shared.money import check_currency
from domain.shared.reference import AlreadyExists, check_code


class StoreOpened(DomainEvent, frozen=True, kw_only=True):
    aggregate = "store"
    code: str
    name: str
    currency: str
    allow_backorders: bool = False
    reservation_ttl_minutes: int | None = None


class Store(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    name: str = ""
    currency: str = ""
    allow_backorders: bool = False
    reservation_ttl_minutes: int | None = None
    exists: bool = False


def evolve(event: StoreOpened, state: Store) -> Store:
    return Store(
        code=event.code,
        name=event.name,
        currency=event.currency,
        allow_backorders=event.allow_backorders,
        reservation_ttl_minutes=event.reservation_ttl_minutes,
        exists=True,
    )


def open_store(
    state: Store,
    *,
    code: str,
    name: str,
    currency: str,
    allow_backorders: bool,
    reservation_ttl_minutes: int | None = None,
) -> list[StoreOpened]:
    if state.exists:
        raise AlreadyExists(f"store {code!r} already exists")
    if reservation_ttl_minutes is not None and reservation_ttl_minutes <= 0:
        raise InvalidCommand("reservation_ttl_minutes must be positive (or absent: no TTL)")
    return [
        StoreOpened(
            code=check_code(code, "store code"),
            name=name,
            currency=check_currency(currency),
            allow_backorders=allow_backorders,
            reservation_ttl_minutes=reservation_ttl_minutes,
        )
    ]
