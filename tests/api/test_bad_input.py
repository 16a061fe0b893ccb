"""Bad input is a 4xx application/problem+json with a clear message, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Tenant, assert_problem, order_body


def line(**changes: Any) -> dict[str, Any]:
    return {"sku": "MUG", "quantity": 1, "unit_price": "9.90"} | changes


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


ORDER = order_body()
RECEIPT = {"location": "BER", "lines": [{"sku": "MUG", "quantity": 1}]}
TRANSFER = {"from_location": "BER", "to_location": "MUC", "sku": "MUG", "quantity": 1}
ADJUSTMENT = {"location": "BER", "sku": "MUG", "delta": 1, "reason": "found one"}
PRODUCT = {
    "sku": "NEW",
    "name": "New",
    "prices": [{"store": "web", "amount": "1.00", "currency": "EUR"}],
}

# (path, JSON body, status, code, whether per-field `errors` are expected)
BAD_JSON_BODIES = {
    "an order with a quantity that is a string": (
        "/v1/orders", order_body(lines=[line(quantity="two")]), 422, "validation_failed", True),
    "an order with a fractional quantity": (
        "/v1/orders", order_body(lines=[line(quantity=1.5)]), 422, "validation_failed", True),
    "an order with a zero quantity": (
        "/v1/orders", order_body(lines=[line(quantity=0)]), 422, "validation_failed", True),
    "an order with a negative quantity": (
        "/v1/orders", order_body(lines=[line(quantity=-1)]), 422, "validation_failed", True),
    "an order without a customer": (
        "/v1/orders", without(ORDER, "customer"), 422, "validation_failed", True),
    "an order without lines": (
        "/v1/orders", without(ORDER, "lines"), 422, "validation_failed", True),
    "an order with an empty list of lines": (
        "/v1/orders", ORDER | {"lines": []}, 422, "validation_failed", True),
    "an order with an unknown field": (
        "/v1/orders", ORDER | {"coupon": "FREE"}, 422, "validation_failed", True),
    "an order line with an unknown field": (
        "/v1/orders", order_body(lines=[line(discount="5")]), 422, "validation_failed", True),
    "an order with a customer that is a string": (
        "/v1/orders", ORDER | {"customer": "ada"}, 422, "validation_failed", True),
    "an order with an invalid email": (
        "/v1/orders", ORDER | {"customer": {"email": "nope", "name": "A"}}, 422,
        "validation_failed", True),
    "an order with a lowercase country": (
        "/v1/orders", ORDER | {"shipping_address": ORDER["shipping_address"] | {"country": "de"}},
        422, "validation_failed", True),
    "an order with a price that is not a number": (
        "/v1/orders", order_body(lines=[line(unit_price="abc")]), 422, "validation_failed", True),
    "an order with a price finer than cents": (
        "/v1/orders", order_body(lines=[line(unit_price="9.999")]), 422, "invalid_amount", False),
    "an order with a price that is not finite": (
        "/v1/orders", order_body(lines=[line(unit_price="NaN")]), 422, "invalid_amount", False),
    "an order with a negative price": (
        "/v1/orders", order_body(lines=[line(unit_price="-1.00")]), 422, "invalid_command", True),
    "an order for an unknown SKU": (
        "/v1/orders", order_body(lines=[line(sku="NOPE")]), 422, "unknown_sku", True),
    "an order for an unknown store": (
        "/v1/orders", order_body(store="nope"), 422, "unknown_store", True),
    "an order in a currency the store does not sell in": (
        "/v1/orders", ORDER | {"currency": "USD"}, 422, "invalid_command", True),
    "an order that is a JSON array": ("/v1/orders", [ORDER], 422, "validation_failed", True),
    "an order that is JSON null": ("/v1/orders", None, 422, "body_required", False),
    "a receipt into an unknown location": (
        "/v1/stock/receipts", RECEIPT | {"location": "NOPE"}, 422, "unknown_location", True),
    "a receipt of an unknown SKU": (
        "/v1/stock/receipts", RECEIPT | {"lines": [{"sku": "NOPE", "quantity": 1}]}, 422,
        "unknown_product", True),
    "a receipt of a negative quantity": (
        "/v1/stock/receipts", RECEIPT | {"lines": [{"sku": "MUG", "quantity": -5}]}, 422,
        "validation_failed", True),
    "a receipt of a zero quantity": (
        "/v1/stock/receipts", RECEIPT | {"lines": [{"sku": "MUG", "quantity": 0}]}, 422,
        "validation_failed", True),
    "a receipt with a unit cost finer than cents": (
        "/v1/stock/receipts",
        RECEIPT | {"lines": [{"sku": "MUG", "quantity": 1,
                              "unit_cost": {"amount": "1.001", "currency": "EUR"}}]},
        422, "invalid_amount", False),
    "a receipt without lines": (
        "/v1/stock/receipts", RECEIPT | {"lines": []}, 422, "validation_failed", True),
    "an adjustment with both counted and delta": (
        "/v1/stock/adjustments", ADJUSTMENT | {"counted": 3}, 422, "invalid_command", False),
    "an adjustment with neither counted nor delta": (
        "/v1/stock/adjustments", without(ADJUSTMENT, "delta"), 422, "invalid_command", False),
    "an adjustment with a zero delta": (
        "/v1/stock/adjustments", ADJUSTMENT | {"delta": 0}, 422, "invalid_command", False),
    "an adjustment with a negative count": (
        "/v1/stock/adjustments", without(ADJUSTMENT, "delta") | {"counted": -1}, 422,
        "validation_failed", True),
    "an adjustment without a reason": (
        "/v1/stock/adjustments", without(ADJUSTMENT, "reason"), 422, "validation_failed", True),
    "an adjustment of an unknown SKU": (
        "/v1/stock/adjustments", ADJUSTMENT | {"sku": "NOPE"}, 422, "unknown_product", True),
    "an adjustment that would make stock negative": (
        "/v1/stock/adjustments", ADJUSTMENT | {"delta": -11}, 409, "insufficient_stock", False),
    "a transfer to the same location": (
        "/v1/stock/transfers", TRANSFER | {"to_location": "BER"}, 422, "invalid_command", False),
    "a transfer to an unknown location": (
        "/v1/stock/transfers", TRANSFER | {"to_location": "NOPE"}, 422, "unknown_location", True),
    "a transfer of a zero quantity": (
        "/v1/stock/transfers", TRANSFER | {"quantity": 0}, 422, "validation_failed", True),
    "a transfer of a negative quantity": (
        "/v1/stock/transfers", TRANSFER | {"quantity": -2}, 422, "validation_failed", True),
    "a product with a price finer than cents": (
        "/v1/products", PRODUCT | {"prices": [PRODUCT["prices"][0] | {"amount": "1.005"}]}, 422,
        "invalid_amount", False),
    "a product priced for an unknown store": (
        "/v1/products", PRODUCT | {"prices": [PRODUCT["prices"][0] | {"store": "nope"}]}, 422,
        "invalid_command", True),
    "a product priced in another currency than its store": (
        "/v1/products", PRODUCT | {"prices": [{"store": "web", "amount": "1", "currency": "USD"}]},
        422, "invalid_command", True),
    "a product priced in an unknown currency": (
        "/v1/products", PRODUCT | {"prices": [PRODUCT["prices"][0] | {"currency": "XXX"}]}, 422,
        "unknown_currency", False),
    "a product with a negative weight": (
        "/v1/products", PRODUCT | {"weight_grams": -1}, 422, "validation_failed", True),
    "a product without a name": (
        "/v1/products", without(PRODUCT, "name"), 422, "validation_failed", True),
    "a product whose SKU has spaces": (
        "/v1/products", PRODUCT | {"sku": "A B"}, 422, "validation_failed", True),
    "a product whose SKU already exists": (
        "/v1/products", PRODUCT | {"sku": "MUG"}, 409, "already_exists", False),
    "a store in an unknown currency": (
        "/v1/stores", {"code": "s2", "name": "S", "currency": "XXX"}, 422, "unknown_currency",
        False),
    "a store whose backorder flag is a string": (
        "/v1/stores", {"code": "s2", "name": "S", "currency": "EUR", "allow_backorders": "yes"},
        422, "validation_failed", True),
    "a location without a country": (
        "/v1/locations", {"code": "L2", "name": "L"}, 422, "validation_failed", True),
    "a hold without a reason": ("{order}/hold", {}, 422, "validation_failed", True),
    "a hold with an empty reason": ("{order}/hold", {"reason": ""}, 422, "validation_failed", True),
    "a cancellation of a zero quantity": (
        "{order}/cancel", {"reason": "x", "lines": [{"line_no": 1, "quantity": 0}]}, 422,
        "validation_failed", True),
}  # fmt: skip

RAW_BODIES = {
    "a truncated JSON document": (b'{"store": "web", ', 400, "malformed_json"),
    "text that is not JSON": (b"hello", 400, "malformed_json"),
    "an object with a bare key": (b"{store: 1}", 400, "malformed_json"),
    "an empty body": (b"", 422, "body_required"),
}


@pytest.fixture
def order_path(seeded: Tenant) -> str:
    return f"/v1/orders/{seeded.place()['id']}"


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field_errors"),
    list(BAD_JSON_BODIES.values()),
    ids=list(BAD_JSON_BODIES),
)
def test_bad_input_is_a_problem_and_writes_nothing(
    seeded: Tenant,
    order_path: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    field_errors: bool,
) -> None:
    before = seeded.event_count()

    response = seeded.post(path.format(order=order_path), body)

    problem = assert_problem(response, status, code)
    if field_errors:
        assert problem["errors"], problem
        assert all(error["field"] and error["message"] for error in problem["errors"])
    assert seeded.event_count() == before


@pytest.mark.parametrize(("raw", "status", "code"), list(RAW_BODIES.values()), ids=list(RAW_BODIES))
@pytest.mark.parametrize("path", ["/v1/orders", "/v1/stock/receipts", "/v1/products"])
def test_a_body_that_is_not_a_json_object_is_a_problem_and_writes_nothing(
    seeded: Tenant, path: str, raw: bytes, status: int, code: str
) -> None:
    before = seeded.event_count()
    response = seeded.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert_problem(response, status, code)
    assert seeded.event_count() == before


def test_malformed_json_is_a_400_malformed_json_problem(seeded: Tenant) -> None:
    response = seeded.post(
        "/v1/orders", content=b"{bad", headers={"Content-Type": "application/json"}
    )
    assert "JSON" in assert_problem(response, 400, "malformed_json")["detail"]


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/stock/receipts"])
def test_an_oversized_payload_is_a_413_problem_and_writes_nothing(
    seeded: Tenant, path: str
) -> None:
    before = seeded.event_count()
    huge = order_body(lines=[line()] * 30_000)  # about 1.5 MB, over the 1 MiB limit
    response = seeded.post(path, huge)
    assert_problem(response, 413, "payload_too_large")
    assert seeded.event_count() == before


def test_too_many_order_lines_are_refused(seeded: Tenant) -> None:
    before = seeded.event_count()
    response = seeded.post("/v1/orders", order_body(lines=[line()] * 501))
    assert_problem(response, 422, "validation_failed")
    assert seeded.event_count() == before


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/orders?limit=0", "validation_failed"),
        ("/v1/orders?limit=201", "validation_failed"),
        ("/v1/orders?limit=many", "validation_failed"),
        ("/v1/orders?status=lost", "invalid_status"),
        ("/v1/orders?cursor=!!!", "invalid_cursor"),
        ("/v1/orders?cursor=WzFd", "invalid_cursor"),
        ("/v1/inventory?limit=0", "validation_failed"),
        ("/v1/inventory?cursor=bm90LWpzb24", "invalid_cursor"),
        ("/v1/products?limit=-1", "validation_failed"),
        ("/v1/products?cursor=e30", "invalid_cursor"),
    ],
)
def test_bad_query_parameters_are_a_4xx_problem(seeded: Tenant, path: str, code: str) -> None:
    response = seeded.get(path)
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code, code)


@pytest.mark.parametrize("if_match", ["3", '"three"', "W/abc"])
def test_an_if_match_that_is_not_an_etag_is_a_400(seeded: Tenant, if_match: str) -> None:
    order = seeded.place()
    before = seeded.event_count()
    response = seeded.post(
        f"/v1/orders/{order['id']}/hold", {"reason": "x"}, headers={"If-Match": if_match}
    )
    if if_match == "3":  # a bare number is accepted as the ETag it names
        assert_problem(response, 412, "precondition_failed")
    else:
        assert_problem(response, 400, "invalid_if_match")
    assert seeded.event_count() == before


def test_an_over_long_idempotency_key_is_a_400(seeded: Tenant) -> None:
    before = seeded.event_count()
    response = seeded.post("/v1/orders", order_body(), headers={"Idempotency-Key": "k" * 256})
    assert_problem(response, 400, "invalid_idempotency_key")
    assert seeded.event_count() == before


def test_an_unknown_path_is_a_404_problem(seeded: Tenant) -> None:
    assert_problem(seeded.get("/v1/nothing-here"), 404)


def test_an_order_id_that_is_not_a_uuid_is_a_404_problem(seeded: Tenant) -> None:
    assert_problem(seeded.get("/v1/orders/not-a-uuid"), 404)
