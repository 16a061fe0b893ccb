from __future__ import annotations

from domain.shared.errors import DomainError, InvalidCommand


class PreconditionFailed(DomainError):
    """If-Match named a version the record has moved past."""

    code = "precondition_failed"


class UnknownLocation(InvalidCommand):
    code = "unknown_location"


class UnknownProduct(InvalidCommand):
    code = "unknown_product"


def check_version(expected: int | None, actual: int, what: str) -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailed(
            f"{what} is at version {actual}, not {expected}; reload it and retry",
            version=actual,
        )
