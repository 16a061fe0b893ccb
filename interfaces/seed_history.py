"""A year (or `days`) of realistic history for analytics: `kontor seed --days 365 --orders N`.

Orders go through the real commands with a historical `placed_at`, so stock is reserved and
refused as in production. Demand has a weekly rhythm (weekends busier), a yearly one (a
November-December peak), growth, and promotions (more orders, 15 % off). Orders are cancelled,
shipped a few days later (the shipment contract events, appended as the fulfilment part will
append them), invoiced on shipment and paid through the real money commands with the history's
times; some are returned and refunded. Stock is replenished weekly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid5

from application.billing import TenantBilling
from application.context import CommandContext
from application.invoices import NewPayment
from application.orders import NewOrder
from application.ports import Append
from application.stock import ReceiptLine
from domain.order.decide import RequestedLine
from domain.order.events import Address, Customer, Discount, DiscountKind
from domain.shared.errors import DomainError
from domain.shipment.events import ShipmentCreated, ShipmentLine, ShipmentShipped
from interfaces.bootstrap import Container
from interfaces.seed import DESTINATIONS, NAMES, STORES
from interfaces.seed import seed as seed_catalog

SHIPMENTS = UUID("6f1c1a52-5d8e-4c43-9d7a-2f4c1b9e0a11")
TAX_RATES = {"DE": Decimal("0.19"), "FR": Decimal("0.20"), "GB": Decimal("0.20")}
RETURN_REASONS = ["does not fit", "damaged", "not as described", "changed mind"]
PROMOTION = Discount(DiscountKind.PERCENTAGE, Decimal(15))
PROMOTIONS = [(2, 14, 2, 20), (5, 20, 5, 27), (7, 8, 7, 12), (11, 24, 11, 30)]  # (m, d, m, d)


def demand(day: datetime, start: datetime, days: int) -> float:
    """Relative order volume on `day`: trend x week x year x promotion."""
    trend = 1 + 0.5 * (day - start).days / max(days, 1)
    week = (0.85, 0.9, 0.95, 1.0, 1.15, 1.35, 1.25)[day.weekday()]
    year = 1 + 0.35 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 340) / 365)
    return trend * week * year * (1.8 if promoted(day) else 1.0)


def promoted(day: datetime) -> bool:
    return any((m1, d1) <= (day.month, day.day) <= (m2, d2) for m1, d1, m2, d2 in PROMOTIONS)


def seed_history(
    container: Container,
    ctx: CommandContext,
    *,
    days: int = 365,
    orders: int = 3_000,
    skus: int = 50,
    end: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    rng: random.Random | None = None,
) -> dict[str, int]:
    rng = rng or random.Random(11)
    report = progress or (lambda stage, done, total: None)
    tenant = ctx.tenant_id
    seed_catalog(container, ctx, skus=skus, orders=0, progress=progress, rng=rng)
    container.billing.set_tenant(tenant, TenantBilling(base_currency="EUR", merchant_name="Demo"))
    for country, rate in TAX_RATES.items():
        container.billing.set_tax_rate(tenant, country, None, rate)
    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    container.billing.set_fx_rates(tenant, [("GBP", "EUR", start, Decimal("1.16"))])
    products = container.catalog.products(tenant, after=None, limit=10_000)
    weights = [demand(start + timedelta(days=d), start, days) for d in range(days)]
    times = sorted(
        start + timedelta(days=d, seconds=rng.randrange(7 * 3600, 23 * 3600))
        for d in rng.choices(range(days), weights=weights, k=orders)
    )
    weekly = max(1, math.ceil(orders * 2 * 1.6 / max(days / 7, 1) / len(products) / 2))
    counts = {"orders": 0, "refused": 0, "cancelled": 0, "shipped": 0, "paid": 0, "refunded": 0}
    restocked: int | None = None
    for number, placed_at in enumerate(times):
        week = (placed_at - start).days // 7
        if week != restocked:
            restocked = week
            for code in ("BER-1", "LON-1"):
                lines = [ReceiptLine(p.sku, weekly, p.unit_cost) for p in products]
                container.stock.receive(ctx, location=code, lines=lines, reference=f"W{week}")
        _one_order(container, ctx, rng, number, placed_at, end, products, counts)
        report("history", number + 1, orders)
    return counts


def _one_order(
    container: Container,
    ctx: CommandContext,
    rng: random.Random,
    number: int,
    placed_at: datetime,
    end: datetime,
    products: list[object],
    counts: dict[str, int],
) -> None:
    store, _, currency, _ = STORES[rng.choices(range(3), weights=(5, 2, 3))[0]]
    city, postal, country, region = rng.choice(
        [d for d in DESTINATIONS if (d[2] == "GB") == (currency == "GBP")]
    )
    customer = rng.randrange(max(40, number // 3 + 1))  # a growing base; many come back
    name = NAMES[customer % len(NAMES)]
    chosen = rng.sample(products, rng.choice((1, 1, 1, 2, 2, 3)))
    lines = [
        RequestedLine(p.sku, rng.choice((1, 1, 1, 2, 3)), p.prices[store].amount)  # type: ignore[attr-defined]
        for p in chosen
    ]
    try:
        placed = container.orders.place(
            ctx,
            NewOrder(
                store=store,
                channel={"web-eu": "shopify", "web-uk": "shopify"}.get(store, "amazon"),
                external_id=f"H-{store}-{number}",
                currency=currency,
                customer=Customer(f"customer{customer}@example.com", name),
                shipping_address=Address(
                    name=name, line1=f"{customer % 200 + 1} Main Street", city=city,
                    postal_code=postal, country=country, region=region,
                ),
                lines=lines,
                discount=PROMOTION if promoted(placed_at) else None,
                placed_at=placed_at,
            ),
        )  # fmt: skip
    except DomainError:
        counts["refused"] += 1
        return
    counts["orders"] += 1
    order = placed.order.state
    assert order.id is not None
    if rng.random() < 0.04:
        container.orders.cancel(ctx, order.id, reason="customer changed their mind")
        counts["cancelled"] += 1
        return
    shipped_at = placed_at + timedelta(hours=rng.choice((4, 20, 26, 30, 50, 75)))
    if shipped_at >= end:
        return
    allocated = [
        ShipmentLine(line.line_no, line.sku, line.allocated)
        for line in order.lines.values()
        if line.allocated > 0
    ]
    if not allocated:
        return
    shipment_id = uuid5(SHIPMENTS, str(order.id))
    location = next(iter(next(iter(order.lines.values())).allocations), "BER-1")
    created = ShipmentCreated(
        shipment_id=shipment_id, order_id=order.id, store=store, location=location,
        lines=allocated, created_at=placed_at + timedelta(hours=1),
    )  # fmt: skip
    shipped = ShipmentShipped(
        shipment_id=shipment_id, order_id=order.id, store=store, location=location,
        lines=allocated, shipped_at=shipped_at,
    )  # fmt: skip
    container.store.append([Append(shipment_id, 0, [created, shipped])], ctx.metadata(shipped_at))
    counts["shipped"] += 1
    invoice = container.invoices.issue(
        ctx,
        order.id,
        shipment_id=shipment_id,
        quantities={line.line_no: line.quantity for line in allocated},
        now=shipped_at,
    )
    paid_at = shipped_at + timedelta(days=rng.choice((0, 0, 1, 3, 10)))
    if paid_at >= end or rng.random() < 0.03:
        return
    total = invoice.state.document.total
    container.invoices.record_payment(
        ctx,
        NewPayment(
            invoice_id=invoice.state.document.invoice_id,
            amount=total,
            method="card",
            gateway="stripe",
            gateway_reference=f"pi_{order.id.hex[:20]}",
            received_at=paid_at,
        ),
    )
    counts["paid"] += 1
    returned_at = paid_at + timedelta(days=rng.randint(3, 25))
    if returned_at < end and rng.random() < 0.07:
        line = allocated[0]
        container.invoices.refund(
            ctx,
            order.id,
            reason=rng.choice(RETURN_REASONS),
            lines={line.line_no: 1},
            gateway="stripe",
            gateway_reference=f"re_{order.id.hex[:20]}",
            now=returned_at,
        )
        counts["refunded"] += 1
