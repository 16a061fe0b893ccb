"""The event catalog: JSON Schema of every domain event and an AsyncAPI 3 document of the subjects
the relay publishes them on, generated from the event Structs (ADR 0022)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import msgspec

import domain
from domain.shared.events import EVENT_TYPES, DomainEvent

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "events" / "asyncapi.json"

HEADERS: dict[str, str] = {
    "Nats-Msg-Id": "the event id, uuid5(stream id, version); JetStream deduplicates on it",
    "Kontor-Stream-Id": "the aggregate's stream id",
    "Kontor-Version": "the event's version in its stream (1, 2, ...)",
    "Kontor-Position": "the event's position in the store's global order",
    "Kontor-Schema-Version": "the payload's schema version",
    "Kontor-Recorded-At": "when the event was recorded (RFC 3339, UTC)",
    "Kontor-Correlation-Id": "the correlation id of the request",
    "Kontor-Causation-Id": "the command that caused it (optional)",
    "Kontor-Hash": "the event's hash in its stream's chain (hex; see ADR 0020)",
}
REQUIRED_HEADERS = [name for name in HEADERS if name not in {"Kontor-Causation-Id", "Kontor-Hash"}]


def domain_events() -> list[type[DomainEvent]]:
    """Every event class of the domain, importing every domain module first so that events
    added anywhere under `domain/` are found."""
    for module in pkgutil.walk_packages(domain.__path__, prefix="domain."):
        importlib.import_module(module.name)
    registered = [cls for cls in EVENT_TYPES.values() if cls.__module__.startswith("domain.")]
    concrete = [  # an aggregate's base event class (OrderEvent) is registered too: leave it out
        cls
        for cls in registered
        if not any(o is not cls and issubclass(o, cls) for o in registered)
    ]
    return sorted(concrete, key=lambda cls: cls.topic())


def asyncapi(prefix: str = "kontor") -> dict[str, Any]:
    events = domain_events()
    _, schemas = msgspec.json.schema_components(events, ref_template="#/components/schemas/{name}")
    schemas["KontorHeaders"] = {
        "type": "object",
        "properties": {
            name: {"type": "string", "description": text} for name, text in HEADERS.items()
        },
        "required": REQUIRED_HEADERS,
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for cls in events:
        topic = cls.topic()
        messages[topic] = {
            "name": topic,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().split("\n")[0] or f"{cls.__name__} event",
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/KontorHeaders"},
            "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
            "x-schema-version": cls.schema_version,
        }
        channels[topic] = {
            "address": f"{prefix}.{{tenant_id}}.{topic}",
            "parameters": {"tenant_id": {"description": "the tenant's id (UUID)"}},
            "messages": {cls.__name__: {"$ref": f"#/components/messages/{topic}"}},
        }
        operations[f"receive.{topic}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{cls.__name__}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Kontor business events",
            "version": "1",
            "description": (
                "Every committed event, relayed in order and exactly once to the JetStream "
                f"stream KONTOR on `{prefix}.<tenant_id>.<aggregate>.<EventName>`. The payload "
                "is the event's fields as JSON; metadata travels in headers."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"nats": {"host": "localhost:4222", "protocol": "nats"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render() -> bytes:
    """The document as committed: sorted keys, indented, newline-terminated."""
    return msgspec.json.format(msgspec.json.encode(asyncapi(), order="sorted"), indent=2) + b"\n"


def write(path: Path = DOCUMENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render())
    return path
