"""Shared rules for the reference-data aggregates (product, location, store)."""

from __future__ import annotations

import re

from domain.shared.errors import DomainError, InvalidCommand

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")


class AlreadyExists(DomainError):
    code = "already_exists"


def check_code(value: str, what: str) -> str:
    if not CODE.match(value):
        raise InvalidCommand(
            f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return value


def check_country(country: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidCommand(f"country {country!r} must be an ISO 3166-1 alpha-2 code like 'DE'")
    return country
