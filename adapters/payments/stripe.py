"""Stripe-shaped webhooks: `Stripe-Signature: t=<unix>,v1=<hex hmac-sha256 of "t.body">`."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal
from uuid import UUID

import msgspec

from application.payments import (
    GatewayEvent,
    GatewayRefund,
    InvalidSignature,
    MalformedEvent,
)
from domain.shared.money import MINOR_UNITS

TOLERANCE_SECONDS = 300


class _Refund(msgspec.Struct):
    id: str
    amount: int


class _Refunds(msgspec.Struct):
    data: list[_Refund]


class _Object(msgspec.Struct):
    id: str
    currency: str
    amount: int | None = None
    amount_refunded: int | None = None
    refunds: _Refunds | None = None
    payment_intent: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class _Data(msgspec.Struct):
    object: _Object


class _Event(msgspec.Struct):
    id: str
    type: str
    data: _Data


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send (tests and the CLI use it to produce valid payloads)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class StripeGateway:
    name = "stripe"
    signature_header = "stripe-signature"

    def __init__(self, tolerance_seconds: int = TOLERANCE_SECONDS) -> None:
        self.tolerance = tolerance_seconds

    def verify(
        self, header: str | None, body: bytes, secret: str, now: float | None = None
    ) -> None:
        if not header:
            raise InvalidSignature("the Stripe-Signature header is missing")
        parts = [item.partition("=") for item in header.split(",")]
        timestamps = [value for key, _, value in parts if key.strip() == "t"]
        signatures = [value.strip() for key, _, value in parts if key.strip() == "v1"]
        if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not signatures:
            raise InvalidSignature("the Stripe-Signature header is malformed")
        timestamp = int(timestamps[0])
        if abs((now if now is not None else time.time()) - timestamp) > self.tolerance:
            raise InvalidSignature("the signature's timestamp is outside the tolerance")
        expected = sign(body, secret, timestamp).rpartition("v1=")[2]
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise InvalidSignature("the signature does not match")

    def parse(self, body: bytes) -> GatewayEvent:
        try:
            event = msgspec.json.decode(body, type=_Event)
        except msgspec.MsgspecError as error:
            raise MalformedEvent(f"not a Stripe event: {error}") from error
        obj = event.data.object
        currency = obj.currency.upper()
        if currency not in MINOR_UNITS:
            raise MalformedEvent(f"unsupported currency {obj.currency!r}")

        def money(minor: int | None) -> Decimal:
            if minor is None or minor < 0:
                raise MalformedEvent("the event carries no amount")
            return Decimal(minor).scaleb(-MINOR_UNITS[currency])

        try:
            invoice_id = UUID(obj.metadata["invoice_id"]) if "invoice_id" in obj.metadata else None
            order_id = UUID(obj.metadata["order_id"]) if "order_id" in obj.metadata else None
        except ValueError as error:
            raise MalformedEvent("metadata invoice_id / order_id must be UUIDs") from error
        if event.type == "payment_intent.succeeded":
            return GatewayEvent(
                id=event.id, kind="payment", reference=obj.id, amount=money(obj.amount),
                currency=currency, invoice_id=invoice_id, order_id=order_id,
            )  # fmt: skip
        if event.type == "charge.refunded":
            # `amount_refunded` is cumulative over the charge's refunds. Where the event lists
            # them, each refund is recorded once under its own id; else (API versions that do
            # not expand `refunds`) what is new in the cumulative amount is.
            listed = obj.refunds.data if obj.refunds is not None else []
            return GatewayEvent(
                id=event.id, kind="refund", reference=obj.id,
                amount=money(obj.amount_refunded), currency=currency,
                invoice_id=invoice_id, order_id=order_id, payment_reference=obj.payment_intent,
                refunds=[GatewayRefund(r.id, money(r.amount)) for r in listed],
            )  # fmt: skip
        return GatewayEvent(id=event.id, kind="ignored", reference=obj.id, currency=currency)
