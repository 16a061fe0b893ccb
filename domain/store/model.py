"""Store: a sales channel's shop front with its currency, backorder policy and the locations
that fulfil it (which also decide what stock a caller scoped to the store may see)."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from domain.shared.errors import InvalidCommand, NotFound
from domain.shared.events import DomainEvent
from domain.shared.money import check_currency
from domain.shared.reference import AlreadyExists, check_code


class StoreNotFound(NotFound):
    code = "unknown_store"


class StoreOpened(DomainEvent, frozen=True, kw_only=True):
    aggregate = "store"
    code: str
    name: str
    currency: str
    allow_backorders: bool = False
    reservation_ttl_minutes: int | None = None


class StoreLocationsAssigned(DomainEvent, frozen=True, kw_only=True):
    """The whole set of locations that fulfil the store, replacing the previous one."""

    aggregate = "store"
    code: str
    locations: tuple[str, ...]


class Store(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    name: str = ""
    currency: str = ""
    allow_backorders: bool = False
    reservation_ttl_minutes: int | None = None
    locations: tuple[str, ...] = ()
    exists: bool = False


def evolve(event: StoreOpened | StoreLocationsAssigned, state: Store) -> Store:
    if isinstance(event, StoreLocationsAssigned):
        return msgspec.structs.replace(state, locations=event.locations)
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


def assign_locations(
    state: Store, *, code: str, locations: Iterable[str], known: Iterable[str]
) -> list[StoreLocationsAssigned]:
    """`known`: the tenant's location codes. Assigning the same set again changes nothing."""
    if not state.exists:
        raise StoreNotFound(f"no store {code!r}")
    chosen = tuple(sorted(set(locations)))
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise InvalidCommand(f"unknown location(s): {', '.join(unknown)}", field="locations")
    if chosen == state.locations:
        return []
    return [StoreLocationsAssigned(code=code, locations=chosen)]
