"""Re-encrypts every secret at rest under the keyring's current key (ADR 0034)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.keyring import Keyring
from adapters.postgres.webhooks import endpoint_secret_context


def reencrypt(datastore: Any, keyring: Keyring, tenant_id: UUID | None = None) -> int:
    """Rewrites, in one transaction, each value not under the current key (of every tenant, or
    of one); returns how many rows changed. After it, older keys can leave KONTOR_SECRET_KEY."""
    only = "(%(tenant)s::uuid IS NULL OR tenant_id = %(tenant)s)"
    params = {"tenant": tenant_id}

    def again(value: str, context: str) -> str:
        return keyring.encrypt(keyring.decrypt(value, context), context)

    changed = 0
    with datastore.transaction(commit=True) as curs:
        curs.execute(
            f"SELECT id, tenant_id, secrets FROM webhook_endpoints WHERE {only} FOR UPDATE", params
        )
        for row in curs.fetchall():
            if all(keyring.is_current(value) for value in row["secrets"]):
                continue
            context = endpoint_secret_context(row["tenant_id"])
            sealed = [again(value, context) for value in row["secrets"]]
            curs.execute(
                "UPDATE webhook_endpoints SET secrets = %s WHERE id = %s", (sealed, row["id"])
            )
            changed += 1
        curs.execute(
            f"SELECT tenant_id, gateway, secret FROM webhook_secrets WHERE {only} FOR UPDATE",
            params,
        )
        for row in curs.fetchall():
            if keyring.is_current(row["secret"]):
                continue
            context = f"gateway-webhook:{row['tenant_id']}:{row['gateway']}"
            curs.execute(
                "UPDATE webhook_secrets SET secret = %s WHERE tenant_id = %s AND gateway = %s",
                (again(row["secret"], context), row["tenant_id"], row["gateway"]),
            )
            changed += 1
        curs.execute(
            "SELECT id, totp_secret, totp_pending FROM users "
            f"WHERE (totp_secret IS NOT NULL OR totp_pending IS NOT NULL) AND {only} FOR UPDATE",
            params,
        )
        for row in curs.fetchall():
            values = [row["totp_secret"], row["totp_pending"]]
            if all(value is None or keyring.is_current(value) for value in values):
                continue
            context = f"totp:{row['id']}"
            secret, pending = (None if v is None else again(v, context) for v in values)
            curs.execute(
                "UPDATE users SET totp_secret = %s, totp_pending = %s WHERE id = %s",
                (secret, pending, row["id"]),
            )
            changed += 1
    return changed
