"""Base class and registry for domain events.

Events are immutable msgspec Structs named in the past tense. Each concrete event class declares
the aggregate it belongs to and its schema version; the registry maps the stable topic
`<aggregate>.<EventName>` to the class, which is what the store writes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

EVENT_TYPES: dict[str, type[DomainEvent]] = {}


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    # Personal data (ADR 0035): the dotted paths of string fields that are about a person, and
    # the field naming that person (a customer id). The store seals those fields with the
    # person's key; erasing the person deletes the key.
    personal_data: ClassVar[tuple[str, ...]] = ()
    data_subject: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.aggregate:
            topic = cls.topic()
            if topic in EVENT_TYPES and EVENT_TYPES[topic] is not cls:
                raise TypeError(f"duplicate event topic {topic}")
            EVENT_TYPES[topic] = cls

    @classmethod
    def topic(cls) -> str:
        return f"{cls.aggregate}.{cls.__name__}"
