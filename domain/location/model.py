"""Location: a warehouse or store room that holds stock, with its place in the world."""

from __future__ import annotations

import msgspec

from domain.shared.events import DomainEvent
from domain.shared.reference import AlreadyExists, check_code, check_country


class LocationOpened(DomainEvent, frozen=True, kw_only=True):
    aggregate = "location"
    code: str
    name: str
    country: str
    region: str | None = None


class Location(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    name: str = ""
    country: str = ""
    region: str | None = None
    exists: bool = False


def evolve(event: LocationOpened, state: Location) -> Location:
    return Location(
        code=event.code, name=event.name, country=event.country, region=event.region, exists=True
    )


def open_location(
    state: Location, *, code: str, name: str, country: str, region: str | None
) -> list[LocationOpened]:
    if state.exists:
        raise AlreadyExists(f"location {code!r} already exists")
    return [
        LocationOpened(
            code=check_code(code, "location code"),
            name=name,
            country=check_country(country),
            region=region,
        )
    ]
