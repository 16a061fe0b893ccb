"""Return reasons and the categories analytics groups them by."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "damaged_in_transit": "carrier",
    "lost_in_transit": "carrier",
    "arrived_late": "carrier",
    "defective": "product_quality",
    "not_as_described": "product_quality",
    "wrong_item": "fulfilment_error",
    "missing_parts": "fulfilment_error",
    "wrong_size": "customer_preference",
    "changed_mind": "customer_preference",
    "better_price": "customer_preference",
    "other": "other",
}
REASONS = tuple(CATEGORIES)
CONDITIONS = ("sellable", "damaged")


def category_of(reason: str) -> str:
    return CATEGORIES[reason]
