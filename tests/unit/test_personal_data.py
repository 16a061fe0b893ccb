"""Sealing personal fields with a customer's key: round trip, wrong key, erased key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from adapters.personal_data import (
    PREFIX,
    PersonalDataSeal,
    SealedDataUnreadable,
    open_sealed,
    seal,
)
from adapters.postgres import mapper
from application.ports import Metadata
from domain.order.events import Address, Customer, OrderLine, OrderPlaced
from domain.shared.money import Money
from domain.shared.personal import ERASED

TENANT, CUSTOMER = uuid4(), uuid4()
CONTEXT = b"tenant/customer/customer.email"


@given(st.text(max_size=300))
def test_a_sealed_value_opens_with_its_key_and_context(value: str) -> None:
    key = AESGCM(os.urandom(32))
    sealed = seal(key, value, CONTEXT)
    assert sealed.startswith(PREFIX)
    assert sealed != seal(key, value, CONTEXT)  # a fresh nonce each time: equal values differ
    assert open_sealed(key, sealed, CONTEXT) == value


def test_a_wrong_key_or_another_field_is_an_error_not_an_erasure() -> None:
    key = AESGCM(os.urandom(32))
    sealed = seal(key, "ada@example.com", CONTEXT)
    with pytest.raises(SealedDataUnreadable):
        open_sealed(AESGCM(os.urandom(32)), sealed, CONTEXT)
    with pytest.raises(SealedDataUnreadable):
        open_sealed(key, sealed, b"tenant/customer/customer.name")


def test_without_the_key_a_sealed_value_reads_as_erased() -> None:
    assert open_sealed(None, seal(AESGCM(os.urandom(32)), "Ada", CONTEXT), CONTEXT) == ERASED


def placed_fields(customer_id: UUID | None) -> dict[str, object]:
    return {
        "customer_id": str(customer_id) if customer_id else None,
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "name": "Ada Lovelace", "line1": "12 St James's Square", "line2": None,
            "city": "London", "postal_code": "SW1Y 4JH", "country": "GB", "region": "LDN",
        },
        "lines": [{"sku": "MUG", "quantity": 2}],
    }  # fmt: skip


def test_the_personal_fields_of_an_event_are_sealed_in_place_and_opened_again() -> None:
    keys = {(TENANT, CUSTOMER): os.urandom(32)}
    sealer = PersonalDataSeal(lambda t, c: keys.get((t, c)))
    fields = placed_fields(CUSTOMER)
    sealer.seal(OrderPlaced, fields, TENANT)
    text = repr(fields)
    for plain in ("ada@example.com", "Ada Lovelace", "St James", "London", "SW1Y"):
        assert plain not in text
    assert fields["lines"] == [{"sku": "MUG", "quantity": 2}]
    assert fields["shipping_address"]["country"] == "GB"  # type: ignore[index]
    assert fields["shipping_address"]["line2"] is None  # type: ignore[index]
    sealer.open(OrderPlaced, fields, TENANT)
    assert fields == placed_fields(CUSTOMER)


def test_after_the_key_is_deleted_every_personal_field_reads_erased_and_the_rest_stays() -> None:
    keys = {(TENANT, CUSTOMER): os.urandom(32)}
    sealer = PersonalDataSeal(lambda t, c: keys.get((t, c)))
    fields = placed_fields(CUSTOMER)
    sealer.seal(OrderPlaced, fields, TENANT)
    del keys[(TENANT, CUSTOMER)]
    sealer.open(OrderPlaced, fields, TENANT)
    assert fields["customer"] == {"email": ERASED, "name": ERASED}
    assert fields["shipping_address"] == {
        "name": ERASED, "line1": ERASED, "line2": None, "city": ERASED,
        "postal_code": ERASED, "country": "GB", "region": "LDN",
    }  # fmt: skip
    assert fields["lines"] == [{"sku": "MUG", "quantity": 2}]


def test_events_without_a_customer_id_are_left_as_they_were_written() -> None:
    sealer = PersonalDataSeal(lambda t, c: pytest.fail("no key is needed"))
    fields = placed_fields(None)
    sealer.seal(OrderPlaced, fields, TENANT)
    sealer.open(OrderPlaced, fields, TENANT)
    assert fields == placed_fields(None)


@pytest.fixture
def keys() -> Iterator[dict[tuple[UUID, UUID], bytes]]:
    """Customer keys installed in the event mapper for one test (the previous ones restored)."""
    found: dict[tuple[UUID, UUID], bytes] = {(TENANT, CUSTOMER): os.urandom(32)}
    previous = mapper._personal
    mapper.use_personal_data(PersonalDataSeal(lambda t, c: found.get((t, c))))
    yield found
    mapper.use_personal_data(previous)


def order_placed(customer_id: UUID | None) -> OrderPlaced:
    return OrderPlaced(
        order_id=uuid4(),
        store="web",
        channel="web",
        external_id=None,
        currency="EUR",
        customer=Customer("ada@example.com", "Ada Lovelace"),
        shipping_address=Address(
            name="Ada Lovelace",
            line1="12 St James's Square",
            city="London",
            postal_code="SW1Y 4JH",
            country="GB",
        ),
        lines=[OrderLine(1, "MUG", 2, Money(Decimal("9.90"), "EUR"))],
        placed_at=datetime.now(UTC),
        customer_id=customer_id,
    )


def test_the_mapper_stores_sealed_and_reads_plain_until_the_key_is_gone(
    keys: dict[tuple[UUID, UUID], bytes],
) -> None:
    meta = Metadata(
        tenant_id=TENANT, actor="test", correlation_id=uuid4(), recorded_at=datetime.now(UTC)
    )
    event = order_placed(CUSTOMER)
    state = mapper.encode_state(event, meta)
    assert b"ada@example.com" not in state
    assert b"Lovelace" not in state
    assert mapper.decode_event("order.OrderPlaced", state) == (event, meta)
    keys.clear()
    read, _ = mapper.decode_event("order.OrderPlaced", state)
    assert isinstance(read, OrderPlaced)
    assert read.customer == Customer(ERASED, ERASED)
    assert read.shipping_address.line1 == ERASED
    assert read.shipping_address.country == "GB"
    assert read.lines == event.lines
    assert read.placed_at == event.placed_at


def test_without_customer_keys_a_sealed_event_is_an_error_never_plaintext() -> None:
    previous = mapper._personal
    mapper.use_personal_data(None)
    try:
        meta = Metadata(
            tenant_id=TENANT, actor="test", correlation_id=uuid4(), recorded_at=datetime.now(UTC)
        )
        with pytest.raises(mapper.PersonalDataUnconfigured):
            mapper.encode_state(order_placed(CUSTOMER), meta)
    finally:
        mapper.use_personal_data(previous)


def test_analytics_reads_a_sealed_event_without_its_keys_and_sees_no_personal_data(
    keys: dict[tuple[UUID, UUID], bytes],
) -> None:
    """`decode_sealed` (the analytics projector's read) needs no key and opens nothing: the
    personal fields stay sealed tokens, everything else reads as written."""
    meta = Metadata(
        tenant_id=TENANT, actor="test", correlation_id=uuid4(), recorded_at=datetime.now(UTC)
    )
    event = order_placed(CUSTOMER)
    envelope = mapper._envelope_decoder.decode(mapper.encode_state(event, meta))
    keys.clear()  # no key could open it: none is looked up
    read = mapper.decode_sealed("order.OrderPlaced", envelope.v, envelope.data, TENANT)
    assert isinstance(read, OrderPlaced)
    assert read.customer.email.startswith(PREFIX)
    assert read.customer.name.startswith(PREFIX)
    assert read.shipping_address.line1.startswith(PREFIX)
    assert read.shipping_address.country == "GB"
    assert (read.order_id, read.customer_id, read.lines, read.placed_at) == (
        event.order_id, CUSTOMER, event.lines, event.placed_at,
    )  # fmt: skip
