"""Sealing personal data inside stored events with each customer's own key (ADR 0035).

Each personal string field is sealed on its own, in place, with AES-256-GCM under the key of
the customer the event names (its `data_subject`). The associated data binds a sealed value to
its tenant, customer and field, so a value copied elsewhere does not open. A value whose key
was deleted (the customer was erased) opens as ERASED; nothing else in the event changes, so
amounts, SKUs, ids and dates read as before and the stored bytes (and their hash chain) never
change.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.shared.events import DomainEvent
from domain.shared.personal import ERASED

PREFIX = "pii1:"

# (tenant, customer) -> the customer's 32-byte key, or None once erased (or never known).
KeyLookup = Callable[[UUID, UUID], bytes | None]


class SealedDataUnreadable(Exception):
    pass


def _context(tenant_id: UUID, customer_id: UUID) -> str:
    """The associated data's prefix; the field's path completes it."""
    return f"{tenant_id}/{customer_id}/"


def seal(cipher: AESGCM, value: str, context: bytes) -> str:
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, value.encode(), context)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_sealed(cipher: AESGCM | None, token: str, context: bytes) -> str:
    """The plaintext, or ERASED when there is no key. A key that does not authenticate the
    value is an error, never an erasure: tampering must not pass for a shredded key."""
    if cipher is None:
        return ERASED
    encoded = token.removeprefix(PREFIX)
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    try:
        return cipher.decrypt(raw[:12], raw[12:], context).decode()
    except InvalidTag:
        raise SealedDataUnreadable("a sealed personal field failed authentication") from None


def _slots(fields: dict[str, Any], path: str) -> tuple[dict[str, Any], str] | None:
    """The dict holding the field at a dotted path, and its last name (None if absent)."""
    *parents, name = path.split(".")
    holder: Any = fields
    for parent in parents:
        holder = holder.get(parent)
        if not isinstance(holder, dict):
            return None
    return holder, name


def subject_of(cls: type[DomainEvent], fields: dict[str, Any]) -> UUID | None:
    if not cls.personal_data:
        return None
    subject = fields.get(cls.data_subject)
    return UUID(subject) if isinstance(subject, str) else None


class PersonalDataSeal:
    """Seals and opens the personal fields of events in their JSON (builtins) form."""

    def __init__(self, keys: KeyLookup) -> None:
        self.keys = keys

    def _cipher(self, tenant_id: UUID, customer_id: UUID) -> AESGCM | None:
        key = self.keys(tenant_id, customer_id)
        return None if key is None else AESGCM(key)

    def seal(self, cls: type[DomainEvent], fields: dict[str, Any], tenant_id: UUID) -> None:
        customer_id = subject_of(cls, fields)
        if customer_id is None:
            return
        cipher = self._cipher(tenant_id, customer_id)
        context = _context(tenant_id, customer_id)
        for path in cls.personal_data:
            slot = _slots(fields, path)
            if slot is None or not isinstance(slot[0].get(slot[1]), str):
                continue
            holder, name = slot
            # Erased while this event was being decided: it is stored erased already.
            holder[name] = (
                ERASED if cipher is None else seal(cipher, holder[name], (context + path).encode())
            )

    def open(self, cls: type[DomainEvent], fields: dict[str, Any], tenant_id: UUID) -> None:
        customer_id = subject_of(cls, fields)
        if customer_id is None:
            return
        cipher: AESGCM | None = None
        looked_up = False
        context = _context(tenant_id, customer_id)
        for path in cls.personal_data:
            slot = _slots(fields, path)
            if slot is None:
                continue
            holder, name = slot
            value = holder.get(name)
            if not isinstance(value, str) or not value.startswith(PREFIX):
                continue
            if not looked_up:
                cipher, looked_up = self._cipher(tenant_id, customer_id), True
            holder[name] = open_sealed(cipher, value, (context + path).encode())
