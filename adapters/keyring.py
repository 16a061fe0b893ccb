"""Secrets at rest: AES-256-GCM under a keyring of named keys (ADR 0034).

A stored value reads `enc1:<key id>:<base64url(nonce + ciphertext)>`. The first key of the
keyring encrypts; every key decrypts, so a new key goes first and the old ones stay until
`kontor secrets reencrypt` has rewritten every value under the new one.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"
KEY_FILE = "secret.key"


class KeyringError(Exception):
    pass


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_entry(key_id: str) -> str:
    """A fresh `<key id>:<base64url key>` entry for KONTOR_SECRET_KEY."""
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"


class Keyring:
    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise KeyringError("the keyring has no keys")
        self.keys = dict(keys)
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = next(iter(keys))

    @classmethod
    def parse(cls, value: str) -> Keyring:
        """`id:key,id:key,...`: keys are 32 bytes in base64url; the first one encrypts."""
        keys: dict[str, bytes] = {}
        for entry in value.split(","):
            key_id, sep, encoded = entry.strip().partition(":")
            try:
                key = _b64decode(encoded)
            except (binascii.Error, ValueError):
                key = b""
            if not sep or not key_id or len(key) != 32 or key_id in keys:
                raise KeyringError(
                    "KONTOR_SECRET_KEY must be comma-separated '<key id>:<32 bytes in base64url>' "
                    "entries with distinct ids (see `kontor secrets new-key`)"
                )
            keys[key_id] = key
        return cls(keys)

    def encrypt(self, plaintext: str, context: str) -> str:
        """`context` (what the secret belongs to) is authenticated: a value copied into another
        row or column does not decrypt there."""
        nonce = os.urandom(12)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode(), context.encode())
        token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}:{self.current}:{token}"

    def decrypt(self, stored: str, context: str) -> str:
        prefix, _, rest = stored.partition(":")
        key_id, _, token = rest.partition(":")
        if prefix != PREFIX or key_id not in self._keys:
            raise KeyringError(
                f"a stored secret is not readable with this keyring (key {key_id!r})"
            )
        raw = _b64decode(token)
        try:
            return self._keys[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise KeyringError("a stored secret failed authentication") from None

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{PREFIX}:{self.current}:")


def load_keyring(configured: str | None, data_dir: Path) -> Keyring:
    """KONTOR_SECRET_KEY if set; otherwise a key generated once into the data directory (mode
    0600). Several API replicas must share one: set KONTOR_SECRET_KEY for them."""
    if configured:
        return Keyring.parse(configured)
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Keyring.parse(path.read_text().strip())
    with os.fdopen(fd, "w") as file:
        file.write(new_key_entry("k1") + "\n")
    return Keyring.parse(path.read_text().strip())
