"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
`<webhook-id>.<webhook-timestamp>.<body>` with each of the endpoint's secrets, so a receiver
rotating keys accepts either."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key a `whsec_` secret stands for (ValueError if it is not valid base64)."""
    return base64.b64decode(secret.removeprefix(PREFIX), validate=True)


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 signature>` for every secret, space-separated."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(secret_bytes(s), signed, hashlib.sha256)).decode()
        for s in secrets_
    )


def headers(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, message_id, timestamp, body),
    }
