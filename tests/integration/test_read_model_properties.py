"""Hypothesis, stateful, on real PostgreSQL: random sequences of receipts, orders, cancellations,
cycle counts and transfers through the application layer never oversell, and the projected read
models equal a fold of the events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, suppress
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from application.kinds import STOCK
from application.stock import ReceiptLine
from domain.shared.errors import DomainError
from domain.shared.ids import stock_stream_id
from interfaces.bootstrap import Container
from projections.runner import start_runners
from tests.integration.test_projections import Merchant, caught_up
from tests.integration.test_projections import container as container

SKUS = ("MUG", "TEE", "CAP")
LOCATIONS = ("BER", "MUC")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def projecting(container: Container) -> Iterator[Container]:
    with ExitStack() as stack:
        for runner in start_runners(container.env):
            stack.enter_context(runner)
        yield container


def test_random_command_sequences_keep_stock_sound_and_read_models_equal_the_fold(
    projecting: Container,
) -> None:
    class Ledger(RuleBasedStateMachine):
        @initialize()
        def open_shop(self) -> None:
            self.merchant = Merchant(projecting)
            self.merchant.setup()
            self.orders: list[UUID] = []

        def attempt(self, command: Any) -> None:
            # A refusal must change nothing; the invariants check what is left.
            with suppress(DomainError):
                command()

        @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS),
              quantity=st.integers(1, 6))  # fmt: skip
        def receive(self, sku: str, location: str, quantity: int) -> None:
            self.merchant.c.stock.receive(
                self.merchant.ctx, location=location, lines=[ReceiptLine(sku, quantity)]
            )

        @rule(
            sku=st.sampled_from(SKUS),
            quantity=st.integers(1, 8),
            store=st.sampled_from(["web", "b2b"]),
            region=st.sampled_from(["BE", "BY"]),
        )
        def place(self, sku: str, quantity: int, store: str, region: str) -> None:
            def command() -> None:
                self.orders.append(
                    self.merchant.order(store=store, region=region, **{sku: quantity})
                )

            self.attempt(command)

        @rule(pick=st.integers(0, 1_000), whole=st.booleans())
        def cancel(self, pick: int, whole: bool) -> None:
            if not self.orders:
                return
            order = self.orders[pick % len(self.orders)]
            lines = None if whole else {1: 1}
            self.attempt(
                lambda: self.merchant.c.orders.cancel(
                    self.merchant.ctx, order, reason="test", lines=lines
                )
            )

        @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS),
              counted=st.integers(0, 25))  # fmt: skip
        def count(self, sku: str, location: str, counted: int) -> None:
            self.attempt(
                lambda: self.merchant.c.stock.adjust(
                    self.merchant.ctx, location=location, sku=sku, reason="count", counted=counted
                )
            )

        @rule(sku=st.sampled_from(SKUS), source=st.sampled_from(LOCATIONS),
              quantity=st.integers(1, 10))  # fmt: skip
        def transfer(self, sku: str, source: str, quantity: int) -> None:
            target = next(loc for loc in LOCATIONS if loc != source)
            self.attempt(
                lambda: self.merchant.c.stock.transfer(
                    self.merchant.ctx,
                    sku=sku,
                    from_location=source,
                    to_location=target,
                    quantity=quantity,
                )
            )

        @invariant()
        def never_oversold(self) -> None:
            tenant = self.merchant.tenant_id
            kinds = {stock_stream_id(tenant, sku, loc): STOCK for sku in SKUS for loc in LOCATIONS}
            for loaded in projecting.streams.load(kinds).values():
                stock = loaded.state
                assert 0 <= stock.reserved <= stock.on_hand
                assert sum(stock.reservations.values()) == stock.reserved

        def teardown(self) -> None:
            caught_up(projecting)
            assert self.merchant.read_models() == self.merchant.folds()

    Ledger.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    Ledger.TestCase().runTest()
