"""Personal data in events and states: what erasure leaves in its place (ADR 0035)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

ERASED = "[erased]"

T = TypeVar("T")


def erased(value: T, paths: tuple[str, ...]) -> T:
    """`value` (a Struct) with the string fields at the dotted `paths` replaced by ERASED.

    Absent parts (a None address, a None optional line) stay as they are.
    """
    nested: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, []).append(rest)
        elif getattr(value, head) is not None:
            changes[head] = ERASED
    for head, rests in nested.items():
        part = getattr(value, head)
        if part is not None:
            changes[head] = erased(part, tuple(rests))
    return msgspec.structs.replace(value, **changes) if changes else value  # type: ignore[type-var]
