"""Secret hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile), the
password strength rule, and TOTP."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # type: ignore[import-untyped]


class Argon2Hasher:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MIN_STRENGTH = 3
"""zxcvbn's scale is 0-4; 3 is 'safely unguessable' (about 10^10 guesses)."""


def password_problems(password: str, related: list[str]) -> list[str]:
    """At least 12 characters, and not guessable: zxcvbn's dictionaries of common passwords,
    words, names and keyboard patterns, plus the user's own email, rate it 3 or more.
    A long passphrase of ordinary words passes; 'Password1234' does not."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"use at least {MIN_PASSWORD_LENGTH} characters (a passphrase is fine)"]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"use at most {MAX_PASSWORD_LENGTH} characters"]
    result = zxcvbn(password, user_inputs=related)
    if result["score"] >= MIN_STRENGTH:
        return []
    feedback = result["feedback"]
    hints = [feedback["warning"]] if feedback.get("warning") else []
    return ["this password is too easy to guess", *hints, *feedback.get("suggestions", [])]


class PyotpTotp:
    """RFC 6238 codes (30-second steps, 6 digits) through pyotp."""

    issuer = "Kontor"

    def new_secret(self) -> str:
        return pyotp.random_base32()

    def uri(self, secret: str, account: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=self.issuer)

    def step_of(self, secret: str, code: str, now: datetime) -> int | None:
        totp = pyotp.TOTP(secret)
        for skew in (0, -1, 1):
            moment = now + timedelta(seconds=skew * totp.interval)
            if hmac.compare_digest(totp.at(moment), code.strip()):
                return totp.timecode(moment)
        return None
