"""The reservation-expiry worker as `kontor serve` starts it: its own container, its own thread,
expiring unconfirmed orders on every tick and stopping cleanly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from interfaces.config import Settings
from interfaces.expiry_worker import start_expiry
from tests.api.conftest import Tenant


def status_of(tenant: Tenant, order: dict[str, Any]) -> str:
    return str(tenant.get(f"/v1/orders/{order['id']}").json()["status"])


def test_the_worker_thread_expires_unconfirmed_orders_past_the_ttl(
    seeded: Tenant, caught_up: Any, settings: Settings
) -> None:
    seeded.ok(
        "/v1/stores",
        {"code": "flash", "name": "Flash sale", "currency": "EUR", "reservation_ttl_minutes": 5},
    )
    prices = [{"store": "flash", "amount": "5.00", "currency": "EUR"}]
    seeded.ok("/v1/products", {"sku": "BOX", "name": "Box", "prices": prices})
    seeded.receive("BER", BOX=4)
    box = {"sku": "BOX", "quantity": 3, "unit_price": "5.00"}
    unpaid = seeded.place(store="flash", lines=[box])
    caught_up()

    stop = start_expiry(settings, every=0.05, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    assert stop is not None
    try:
        deadline = time.monotonic() + 20
        while status_of(seeded, unpaid) != "expired" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert status_of(seeded, unpaid) == "expired"
    caught_up()
    assert seeded.inventory(sku="BOX", location="BER")[("BOX", "BER")]["reserved"] == 0


def test_an_interval_of_zero_starts_no_worker(settings: Settings) -> None:
    assert start_expiry(settings, every=0) is None
