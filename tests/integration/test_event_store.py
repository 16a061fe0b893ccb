"""The event store on the eventsourcing library: mapping, upcasting, optimistic concurrency,
snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from adapters.postgres.mapper import StructMapper, decode_event, encode_state, upcaster
from adapters.postgres.recorder import APPEND
from adapters.postgres.snapshots import PostgresSnapshotStore
from application.context import CommandContext
from application.executor import Executor
from application.kinds import STOCK
from application.ports import Append, ConcurrencyConflict, Metadata, Recorded
from application.stock import ReceiptLine, StockCommands
from application.streams import Streams
from domain.product.model import Dimensions
from domain.shared.events import DomainEvent
from domain.shared.ids import stock_stream_id
from domain.shared.money import Money
from domain.stock.events import StockAdjusted, StockReceived, StockReserved
from interfaces.bootstrap import Container, build_container, migrate
from interfaces.config import Settings
from projections.runner import follower_status


class WidgetRenamed(DomainEvent, frozen=True, kw_only=True):
    """Test-only event at schema version 2: v1 had `name` only; v2 adds `label`."""

    aggregate: ClassVar[str] = "kontortest"
    schema_version: ClassVar[int] = 2
    name: str
    label: str


@upcaster(WidgetRenamed.topic(), 1)
def _widget_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"label": data["name"].upper()}


@pytest.fixture(scope="module")
def container(settings: Settings) -> Iterator[Container]:
    migrate(settings)
    built = build_container(settings, pool_size=2)
    yield built
    built.close()


def metadata(tenant_id: UUID | None = None) -> Metadata:
    return Metadata(
        tenant_id=tenant_id or uuid4(),
        actor="api_key:test",
        correlation_id=uuid4(),
        causation_id=uuid4(),
        request_id="req-123",
        recorded_at=datetime.now(UTC),
    )


def received(quantity: int = 5, cost: str | None = "2.50") -> StockReceived:
    return StockReceived(
        sku="MUG",
        location="BER",
        quantity=quantity,
        unit_cost=Money.of(cost, "EUR") if cost else None,
        reference="PO-7",
    )


def test_the_mapper_round_trips_a_recorded_event_with_its_metadata() -> None:
    recorded = Recorded(uuid4(), 3, received(), metadata())
    mapper = StructMapper()

    stored = mapper.to_stored_event(recorded)

    assert stored.topic == "stock.StockReceived"
    envelope = msgspec.json.decode(stored.state)
    assert envelope["v"] == 1
    assert envelope["data"]["unit_cost"] == {"amount": "2.50", "currency": "EUR"}
    assert mapper.to_domain_event(stored) == recorded


def test_events_stored_through_the_library_read_back_equal_with_all_their_metadata(
    container: Container,
) -> None:
    stream = uuid4()
    order_id = uuid4()
    meta = metadata()
    events: list[DomainEvent] = [
        received(),
        StockReserved(sku="MUG", location="BER", order_id=order_id, quantity=2),
        StockAdjusted(sku="MUG", location="BER", delta=-1, counted=None, reason="broken"),
    ]

    container.store.append([Append(stream, 0, events)], meta)
    loaded = container.store.load({stream: 0})[stream]

    assert [item.event for item in loaded] == events
    assert [item.originator_version for item in loaded] == [1, 2, 3]
    for item in loaded:
        assert item.metadata == meta
        assert item.metadata.tenant_id == meta.tenant_id
        assert item.metadata.actor == "api_key:test"
        assert item.metadata.correlation_id == meta.correlation_id
        assert item.metadata.causation_id == meta.causation_id
        assert item.metadata.request_id == "req-123"
        assert item.metadata.recorded_at.tzinfo is not None
    # And through the library's own read path (what the projection runners use).
    stored = container.events.recorder.select_events(stream)
    mapper = StructMapper()
    assert [mapper.to_domain_event(s) for s in stored] == loaded


def test_a_v1_payload_is_upcast_to_the_current_schema_version_on_read(
    container: Container,
) -> None:
    stream = uuid4()
    v1 = msgspec.json.encode({"v": 1, "meta": metadata(), "data": {"name": "gizmo"}})
    container.events.recorder.insert_events(
        [StoredEvent(originator_id=stream, originator_version=1, topic=WidgetRenamed.topic(),
                     state=v1)]
    )  # fmt: skip

    [loaded] = container.store.load({stream: 0})[stream]

    assert loaded.event == WidgetRenamed(name="gizmo", label="GIZMO")
    # A current payload is decoded as it is, without the upcaster.
    event, _ = decode_event(
        WidgetRenamed.topic(), encode_state(WidgetRenamed(name="a", label="b"), metadata())
    )
    assert event == WidgetRenamed(name="a", label="b")


def test_appending_at_a_stale_version_conflicts_and_writes_nothing_on_any_stream(
    container: Container,
) -> None:
    first, second = uuid4(), uuid4()
    container.store.append([Append(first, 0, [received()]), Append(second, 0, [received()])],
                           metadata())  # fmt: skip
    container.store.append([Append(second, 1, [received(1)])], metadata())

    with pytest.raises(ConcurrencyConflict):
        container.store.append(
            [Append(first, 1, [received(2)]), Append(second, 1, [received(3)])], metadata()
        )

    loaded = container.store.load({first: 0, second: 0})
    assert [e.originator_version for e in loaded[first]] == [1]
    assert [e.event.quantity for e in loaded[second]] == [5, 1]  # type: ignore[attr-defined]


def test_a_new_stream_appended_twice_from_version_zero_conflicts(container: Container) -> None:
    stream = uuid4()
    container.store.append([Append(stream, 0, [received()])], metadata())
    with pytest.raises(ConcurrencyConflict):
        container.store.append([Append(stream, 0, [received()])], metadata())


class _RecordingStore:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.asked: list[dict[UUID, int]] = []

    def load(self, after: Any) -> Any:
        self.asked.append(dict(after))
        return self.real.load(after)

    def append(self, *args: Any, **kwargs: Any) -> None:
        self.real.append(*args, **kwargs)


def test_a_long_stream_is_snapshotted_and_loads_the_same_from_snapshot_and_tail(
    container: Container,
) -> None:
    tenant_id = uuid4()
    ctx = CommandContext(tenant_id=tenant_id, actor="test:snapshots")
    container.catalog_commands.open_location(ctx, code="BER", name="B", country="DE", region=None)
    container.catalog_commands.define_product(
        ctx, sku="HOT", name="Hot SKU", weight_grams=1, dimensions=Dimensions(1, 1, 1),
        prices={}, unit_cost=None,
    )  # fmt: skip
    snapshots = PostgresSnapshotStore(container.datastore)
    streams = Streams(container.store, snapshots, snapshot_every=5)
    stock = StockCommands(Executor(container.store, streams), container.catalog)
    for n in range(1, 13):
        cost = Money.of(f"{n}.00", "EUR")
        stock.receive(ctx, location="BER", lines=[ReceiptLine("HOT", n, cost)])
    stream = stock_stream_id(tenant_id, "HOT", "BER")

    assert snapshots.get_many([stream])[stream][0] == 10

    recording = _RecordingStore(container.store)
    from_snapshot = Streams(recording, snapshots, snapshot_every=5).load({stream: STOCK})[stream]
    full_fold = Streams(container.store, None).load({stream: STOCK})[stream]

    assert recording.asked == [{stream: 10}]  # only the tail after the snapshot was read
    assert from_snapshot == full_fold
    assert from_snapshot.version == 12
    assert from_snapshot.tenant_id == tenant_id
    assert from_snapshot.state.on_hand == sum(range(1, 13))
    assert from_snapshot.state.average_cost == full_fold.state.average_cost


def test_an_event_committed_but_not_yet_placed_counts_as_lag_until_it_is_projected(
    container: Container,
) -> None:
    """What a writer that stopped between its commit and sequencing leaves behind: "lag 0"
    must not be reported while a committed event has no position yet (ADR 0047)."""
    lag = follower_status(container.datastore, "nats-relay").lag
    stream = uuid4()
    with container.datastore.get_connection() as conn:
        conn.execute(  # the append alone, committed, not sequenced
            APPEND,
            ([stream], [1], [StockReceived.topic()], [encode_state(received(), metadata())],
             *(None,) * 6, *[[]] * 5),
        )  # fmt: skip

    assert follower_status(container.datastore, "nats-relay").lag == lag + 1
    [position] = container.events.recorder.sequence(container.events.recorder.select_events(stream))  # type: ignore[attr-defined]
    assert position > 0
    assert follower_status(container.datastore, "nats-relay").lag == lag + 1
