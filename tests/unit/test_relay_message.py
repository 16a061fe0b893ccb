"""The relay's message for a stored event: ids, subject, headers."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from adapters.postgres.mapper import encode_state
from application.ports import Metadata
from domain.shared.ids import event_id
from domain.stock.events import StockReceived
from projections.relay import event_id_text, message


@given(stream=st.uuids(), version=st.integers(min_value=1, max_value=2**62))
def test_the_fast_event_id_is_the_domains_uuid5(stream: UUID, version: int) -> None:
    assert event_id_text(stream, version) == str(event_id(stream, version))


def test_a_message_carries_the_event_as_json_and_its_metadata_in_headers() -> None:
    tenant, stream, correlation = uuid4(), uuid4(), uuid4()
    recorded = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
    state = encode_state(
        StockReceived(sku="MUG", location="BER", quantity=3),
        Metadata(tenant_id=tenant, actor="a", correlation_id=correlation, recorded_at=recorded),
    )
    row = {
        "notification_id": 42,
        "originator_id": stream,
        "originator_version": 7,
        "topic": "stock.StockReceived",
        "state": state,
        "hash": b"\x01" * 32,
    }
    m = message("kontor", row)
    assert m.subject == f"kontor.{tenant}.stock.StockReceived"
    assert (
        m.payload
        == b'{"sku":"MUG","location":"BER","quantity":3,"unit_cost":null,"reference":null}'
    )
    assert m.headers == {
        "Nats-Msg-Id": str(event_id(stream, 7)),
        "Kontor-Stream-Id": str(stream),
        "Kontor-Version": "7",
        "Kontor-Position": "42",
        "Kontor-Schema-Version": "1",
        "Kontor-Recorded-At": "2026-11-22T01:02:03Z",
        "Kontor-Correlation-Id": str(correlation),
        "Kontor-Hash": "01" * 32,
    }
