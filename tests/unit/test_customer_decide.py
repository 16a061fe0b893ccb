"""Erasing a customer: given their events, when erase, then CustomerErased once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.customer.model import Customer, CustomerErased, EraseCustomer, erase, evolve
from tests.support.gwt import given

CUSTOMER_ID = uuid4()
NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def fold(events: list[CustomerErased]) -> Customer:
    state = Customer()
    for event in events:
        state = evolve(event, state)
    return state


def erasing(at: datetime = NOW) -> EraseCustomer:
    return EraseCustomer(customer_id=CUSTOMER_ID, now=at)


def test_erasing_a_customer_records_when() -> None:
    given([], fold).when(lambda s: erase(s, erasing())).then(
        [CustomerErased(customer_id=CUSTOMER_ID, erased_at=NOW)]
    )


def test_erasing_an_erased_customer_again_decides_nothing() -> None:
    earlier = [CustomerErased(customer_id=CUSTOMER_ID, erased_at=NOW)]
    given(earlier, fold).when(lambda s: erase(s, erasing(NOW + timedelta(days=1)))).then([])


def test_an_erased_customer_keeps_the_first_erasure_time() -> None:
    later = CustomerErased(customer_id=CUSTOMER_ID, erased_at=NOW + timedelta(days=1))
    first = CustomerErased(customer_id=CUSTOMER_ID, erased_at=NOW)
    assert fold([first, later]).erased_at == NOW
