from decimal import Decimal

import pytest

from interfaces.http.routes.analytics import amount_text


@pytest.mark.parametrize(
    ("value", "money", "text"),
    [
        (Decimal("300"), False, "300"),
        (Decimal("1130"), False, "1130"),
        (Decimal("2.50"), False, "2.5"),
        (Decimal("0"), False, "0"),
        (Decimal("1200"), True, "1200.00"),
        (Decimal("9.999"), True, "10.00"),
        (None, False, None),
    ],
)
def test_counts_and_amounts_are_plain_decimal_text(
    value: Decimal | None, money: bool, text: str | None
) -> None:
    assert amount_text(value, money) == text
