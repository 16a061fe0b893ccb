"""Demo data: stores, locations, ~50 SKUs with stock, and a few hundred orders."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import suppress
from decimal import Decimal

from rich.progress import Progress, TaskID

from application.context import CommandContext
from application.orders import NewOrder
from application.stock import ReceiptLine
from domain.order.decide import RequestedLine
from domain.order.events import Address, Customer
from domain.product.model import Dimensions
from domain.shared.errors import DomainError
from domain.shared.money import Money
from domain.shared.reference import AlreadyExists
from interfaces.bootstrap import Container

STORES = [("web-eu", "Web shop EU", "EUR", False), ("web-uk", "Web shop UK", "GBP", False),
          ("marketplace", "Marketplace", "EUR", True)]  # fmt: skip
LOCATIONS = [("BER-1", "Berlin DC", "DE", "BE"), ("MUC-1", "Munich DC", "DE", "BY"),
             ("LON-1", "London DC", "GB", "ENG"), ("PAR-1", "Paris DC", "FR", "IDF")]  # fmt: skip
DESTINATIONS = [("Berlin", "10115", "DE", "BE"), ("Hamburg", "20095", "DE", "HH"),
                ("Munich", "80331", "DE", "BY"), ("London", "SW1A 1AA", "GB", "ENG"),
                ("Manchester", "M1 1AE", "GB", "ENG"), ("Paris", "75001", "FR", "IDF"),
                ("Lyon", "69001", "FR", "ARA")]  # fmt: skip
KINDS = ["Mug", "T-shirt", "Hoodie", "Cap", "Poster", "Notebook", "Tote bag", "Sticker pack",
         "Water bottle", "Socks"]  # fmt: skip
COLOURS = ["black", "white", "red", "blue", "green"]
NAMES = [
    "Ada",
    "Grace",
    "Linus",
    "Alan",
    "Edsger",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
]


def stage_reporter(progress: Progress) -> Callable[[str, int, int], None]:
    """Reports each seeding stage as its own rich progress bar."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(f"seeding {stage}", total=total)
        progress.update(tasks[stage], completed=done)

    return report


def seed(
    container: Container,
    ctx: CommandContext,
    *,
    skus: int = 50,
    orders: int = 300,
    progress: Callable[[str, int, int], None] | None = None,
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Seeds one tenant through the same use cases the API calls. Returns what it created."""
    rng = rng or random.Random(7)
    report = progress or (lambda stage, done, total: None)
    for code, name, currency, backorders in STORES:
        with suppress(AlreadyExists):
            container.catalog_commands.open_store(
                ctx, code=code, name=name, currency=currency, allow_backorders=backorders
            )
    for code, name, country, region in LOCATIONS:
        with suppress(AlreadyExists):
            container.catalog_commands.open_location(
                ctx, code=code, name=name, country=country, region=region
            )
    catalog: list[tuple[str, Decimal, Decimal]] = []
    for index in range(skus):
        kind, colour = KINDS[index % len(KINDS)], COLOURS[index // len(KINDS) % len(COLOURS)]
        sku = f"{kind[:4].upper()}-{colour.upper()}-{index:03d}"
        price = Decimal(rng.randrange(500, 8000)) / 100
        catalog.append((sku, price, (price * Decimal("0.45")).quantize(Decimal("0.01"))))
        with suppress(AlreadyExists):
            container.catalog_commands.define_product(
            ctx,
            sku=sku,
            name=f"{kind} ({colour})",
            weight_grams=rng.randrange(50, 1500),
            dimensions=Dimensions(
                rng.randrange(50, 400), rng.randrange(50, 300), rng.randrange(10, 200)
            ),
            prices={"web-eu": Money.of(price, "EUR"), "marketplace": Money.of(price, "EUR"),
                    "web-uk": Money.of((price * Decimal("0.86")).quantize(Decimal("0.01")), "GBP")},
            unit_cost=Money.of(catalog[-1][2], "EUR"),
        )  # fmt: skip
        report("products", index + 1, skus)
    for step, (code, *_rest) in enumerate(LOCATIONS, start=1):
        lines = [
            ReceiptLine(sku, rng.randrange(20, 200), Money.of(cost, "EUR"))
            for sku, _, cost in catalog
            if rng.random() < 0.8
        ]
        container.stock.receive(ctx, location=code, lines=lines, reference=f"PO-{1000 + step}")
        report("receipts", step, len(LOCATIONS))
    placed = refused = 0
    for number in range(orders):
        store, _, currency, _ = STORES[number % len(STORES)]
        city, postal, country, region = rng.choice(DESTINATIONS)
        name = rng.choice(NAMES)
        chosen = rng.sample(catalog, rng.randint(1, 3))
        lines = [
            RequestedLine(
                sku,
                rng.randint(1, 3),
                price if currency == "EUR" else (price * Decimal("0.86")).quantize(Decimal("0.01")),
            )
            for sku, price, _ in chosen
        ]
        new = NewOrder(
            store=store,
            channel="shopify" if store.startswith("web") else "amazon",
            external_id=f"{store}-{10000 + number}",
            currency=currency,
            customer=Customer(f"{name.lower()}{number % 40}@example.com", name),
            shipping_address=Address(
                name=name, line1=f"{rng.randint(1, 200)} Main Street", city=city,
                postal_code=postal, country=country, region=region,
            ),
            lines=lines,
        )  # fmt: skip
        try:
            result = container.orders.place(ctx, new)
            placed += 1
            order_id = result.order.state.id
            assert order_id is not None
            roll = rng.random()
            if roll < 0.05:
                container.orders.cancel(ctx, order_id, reason="customer changed their mind")
            elif roll < 0.08:
                container.orders.hold(ctx, order_id, reason="address check")
        except DomainError:
            refused += 1
        report("orders", number + 1, orders)
    return {"products": skus, "locations": len(LOCATIONS), "orders": placed, "refused": refused}
