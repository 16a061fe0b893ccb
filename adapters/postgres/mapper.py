"""Maps Kontor's msgspec events to the eventsourcing library's StoredEvent, with upcasting.

A stored event's `topic` is `<aggregate>.<EventName>`; its `state` is the JSON envelope
`{"v": schema version, "meta": Metadata, "data": event fields}`. Reading an envelope whose `v` is
older than the event class's `schema_version` runs the registered upcasters one version at a time.

Events with personal data are sealed on the way in and opened on the way out (ADR 0035) by the
process's `PersonalDataSeal`, installed once by the composition root (`use_personal_data`):
the library constructs the mapper itself, and every read path (projections, relay, webhooks,
audit) goes through these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from adapters.personal_data import PersonalDataSeal
from application.ports import Metadata, Recorded
from domain.shared.events import EVENT_TYPES, DomainEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(topic: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Registers a function turning version `from_version` of a topic's data into the next one."""

    def register(function: Upcaster) -> Upcaster:
        UPCASTERS[(topic, from_version)] = function
        return function

    return register


class Envelope(msgspec.Struct, frozen=True):
    v: int
    meta: Metadata
    data: msgspec.Raw


class UnknownEventTopic(LookupError):
    pass


class _NoTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


_encoder = msgspec.json.Encoder()
_envelope_decoder = msgspec.json.Decoder(Envelope)
_decoders: dict[type[DomainEvent], msgspec.json.Decoder[Any]] = {}


def _decoder(cls: type[DomainEvent]) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(cls)
    if decoder is None:
        decoder = _decoders[cls] = msgspec.json.Decoder(cls)
    return decoder


class PersonalDataUnconfigured(RuntimeError):
    pass


_personal: PersonalDataSeal | None = None


def use_personal_data(seal: PersonalDataSeal | None) -> None:
    """Installs the customer keys this process seals and opens personal data with."""
    global _personal
    _personal = seal


def _seal() -> PersonalDataSeal:
    if _personal is None:
        raise PersonalDataUnconfigured(
            "an event with personal data needs the customer keys: call use_personal_data()"
        )
    return _personal


def encode_state(event: DomainEvent, metadata: Metadata) -> bytes:
    cls = type(event)
    if cls.personal_data and getattr(event, cls.data_subject) is not None:
        fields = msgspec.to_builtins(event)
        _seal().seal(cls, fields, metadata.tenant_id)
        return _encoder.encode({"v": cls.schema_version, "meta": metadata, "data": fields})
    return _encoder.encode({"v": cls.schema_version, "meta": metadata, "data": event})


def decode_event(topic: str, state: bytes) -> tuple[DomainEvent, Metadata]:
    envelope = _envelope_decoder.decode(state)
    meta = envelope.meta
    return decode_data(topic, envelope.v, envelope.data, meta.tenant_id), meta


def decode_data(topic: str, schema_version: int, data: bytes, tenant_id: UUID) -> DomainEvent:
    """The event from its stored fields at `schema_version`, upcast to the current one, with its
    personal data opened (or erased)."""
    cls = EVENT_TYPES.get(topic)
    if cls is None:
        raise UnknownEventTopic(f"no event class for stored topic {topic!r}")
    if schema_version == cls.schema_version and not cls.personal_data:
        return cast(DomainEvent, _decoder(cls).decode(data))
    fields: dict[str, Any] = msgspec.json.decode(data)
    for version in range(schema_version, cls.schema_version):
        fields = UPCASTERS[(topic, version)](fields)
    if cls.personal_data and fields.get(cls.data_subject) is not None:
        _seal().open(cls, fields, tenant_id)
    return msgspec.convert(fields, cls)


def decode_sealed(topic: str, schema_version: int, data: bytes, tenant_id: UUID) -> DomainEvent:
    """The event with its personal fields left as stored: sealed tokens in place of the
    plaintext (personal fields are strings, so the tokens decode as they are). Only for readers
    that never read personal data (analytics): no key lookups, no decryption. An older schema
    version is upcast and opened by `decode_data`."""
    cls = EVENT_TYPES.get(topic)
    if cls is not None and schema_version == cls.schema_version:
        return cast(DomainEvent, _decoder(cls).decode(data))
    return decode_data(topic, schema_version, data, tenant_id)


def opened_data(topic: str, data: bytes, tenant_id: UUID) -> bytes:
    """A stored event's fields as JSON, with its personal data opened (or erased): what the
    relay, webhooks and audit exports hand out. Other events' bytes pass through untouched."""
    cls = EVENT_TYPES.get(topic)
    if cls is None or not cls.personal_data:
        return data
    fields: dict[str, Any] = msgspec.json.decode(data)
    if fields.get(cls.data_subject) is None:
        return data
    _seal().open(cls, fields, tenant_id)
    return _encoder.encode(fields)


class StructMapper(Mapper[UUID]):
    """The library's Mapper for `Recorded` envelopes around msgspec event Structs."""

    def __init__(self) -> None:
        super().__init__(transcoder=_NoTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        recorded = cast(Recorded, domain_event)
        return StoredEvent(
            originator_id=recorded.originator_id,
            originator_version=recorded.originator_version,
            topic=type(recorded.event).topic(),
            state=encode_state(recorded.event, recorded.metadata),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event, metadata = decode_event(stored_event.topic, stored_event.state)
        return Recorded(
            originator_id=cast(UUID, stored_event.originator_id),
            originator_version=stored_event.originator_version,
            event=event,
            metadata=metadata,
        )


@upcaster("stock.StockReserved", 1)
@upcaster("stock.StockReservationReleased", 1)
def _order_level_reservation(data: dict[str, Any]) -> dict[str, Any]:
    """Reservations from before they belonged to order lines are order-level: line 0."""
    return data | {"line_no": 0}
