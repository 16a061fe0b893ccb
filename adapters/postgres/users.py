"""Users, their second factors, one-time tokens (with their mail, via the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from adapters.keyring import Keyring
from adapters.postgres.tenants import roles_of, sorted_or_none, stores_of
from application.access import Role
from application.users import Grant, Mail, StoredUser, UserInfo

_USER = (
    "SELECT id, tenant_id, email, password_hash, roles, stores, totp_secret, totp_pending, "
    "disabled_at IS NOT NULL AS disabled FROM users "
)


def _totp_context(user_id: UUID) -> str:
    return f"totp:{user_id}"


def _user(row: dict[str, Any] | None, keyring: Keyring) -> StoredUser | None:
    if row is None:
        return None
    context = _totp_context(row["id"])
    for column in ("totp_secret", "totp_pending"):
        if row[column] is not None:
            row[column] = keyring.decrypt(row[column], context)
    return StoredUser(
        **(row | {"roles": roles_of(row["roles"]), "stores": stores_of(row["stores"])})
    )


def _grant(row: dict[str, Any] | None) -> Grant | None:
    if row is None:
        return None
    return Grant(
        **(row | {"roles": roles_of(row["roles"] or []), "stores": stores_of(row["stores"])})
    )


class PostgresUserStore:
    def __init__(self, datastore: PostgresDatastore, keyring: Keyring) -> None:
        self.datastore = datastore
        self.keyring = keyring

    def by_email(self, tenant_id: UUID, email: str) -> StoredUser | None:
        with self.datastore.transaction() as curs:
            curs.execute(_USER + "WHERE tenant_id = %s AND email = %s", (tenant_id, email))
            return _user(curs.fetchone(), self.keyring)

    def by_id(self, tenant_id: UUID, user_id: UUID) -> StoredUser | None:
        with self.datastore.transaction() as curs:
            curs.execute(_USER + "WHERE tenant_id = %s AND id = %s", (tenant_id, user_id))
            return _user(curs.fetchone(), self.keyring)

    def add(self, user_id: UUID, grant: Grant, password_hash: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO users (id, tenant_id, email, password_hash, roles, stores) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, email) DO NOTHING",
                (
                    user_id,
                    grant.tenant_id,
                    grant.email,
                    password_hash,
                    sorted(grant.roles),
                    sorted_or_none(grant.stores),
                ),
            )
            return bool(curs.rowcount)

    def list_users(self, tenant_id: UUID) -> list[UserInfo]:
        with self.datastore.transaction() as curs:
            curs.execute(
                "SELECT id, email, roles, stores, totp_secret IS NOT NULL AS mfa, "
                "disabled_at IS NOT NULL AS disabled, created_at FROM users "
                "WHERE tenant_id = %s ORDER BY email",
                (tenant_id,),
            )
            rows: list[dict[str, Any]] = curs.fetchall()
        return [UserInfo(**row) for row in rows]

    def set_password(self, user_id: UUID, password_hash: str) -> None:
        self._update("password_hash = %s", password_hash, user_id)

    def set_access(
        self, tenant_id: UUID, user_id: UUID, roles: frozenset[Role], stores: frozenset[str] | None
    ) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            if Role.OWNER not in roles and not self._another_owner(curs, tenant_id, user_id):
                return False
            curs.execute(
                "UPDATE users SET roles = %s, stores = %s WHERE tenant_id = %s AND id = %s",
                (sorted(roles), sorted_or_none(stores), tenant_id, user_id),
            )
            return True

    def disable(self, tenant_id: UUID, user_id: UUID) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            if not self._another_owner(curs, tenant_id, user_id):
                return False
            curs.execute(
                "UPDATE users SET disabled_at = coalesce(disabled_at, now()) "
                "WHERE tenant_id = %s AND id = %s",
                (tenant_id, user_id),
            )
            return True

    @staticmethod
    def _another_owner(curs: Any, tenant_id: UUID, user_id: UUID) -> bool:
        """Whether the tenant keeps an enabled owner besides `user_id` (or `user_id` is no
        owner). Locks the tenant's enabled owners, so concurrent demotions queue here."""
        curs.execute(
            "SELECT id FROM users WHERE tenant_id = %s AND 'owner' = ANY(roles) "
            "AND disabled_at IS NULL ORDER BY id FOR UPDATE",
            (tenant_id,),
        )
        owners = {row["id"] for row in curs.fetchall()}
        return user_id not in owners or len(owners) > 1

    def set_totp_pending(self, user_id: UUID, secret: str) -> None:
        self._update(
            "totp_pending = %s", self.keyring.encrypt(secret, _totp_context(user_id)), user_id
        )

    def enable_totp(self, user_id: UUID, secret: str, code_hashes: list[str]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE users SET totp_secret = %s, totp_pending = NULL, totp_last_step = NULL "
                "WHERE id = %s",
                (self.keyring.encrypt(secret, _totp_context(user_id)), user_id),
            )
            curs.execute("DELETE FROM recovery_codes WHERE user_id = %s", (user_id,))
            curs.execute(
                "INSERT INTO recovery_codes (user_id, code_hash) SELECT %s, unnest(%s::text[])",
                (user_id, code_hashes),
            )

    def use_totp_step(self, user_id: UUID, step: int) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE users SET totp_last_step = %s WHERE id = %s "
                "AND (totp_last_step IS NULL OR totp_last_step < %s)",
                (step, user_id, step),
            )
            return bool(curs.rowcount)

    def use_recovery_code(self, user_id: UUID, code_hash: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE recovery_codes SET used_at = now() "
                "WHERE user_id = %s AND code_hash = %s AND used_at IS NULL",
                (user_id, code_hash),
            )
            return bool(curs.rowcount)

    def requires_mfa(self, tenant_id: UUID) -> bool:
        with self.datastore.transaction() as curs:
            curs.execute("SELECT require_mfa FROM tenants WHERE id = %s", (tenant_id,))
            row = curs.fetchone()
        return bool(row and row["require_mfa"])

    def set_requires_mfa(self, tenant_id: UUID, required: bool) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("UPDATE tenants SET require_mfa = %s WHERE id = %s", (required, tenant_id))

    def issue_token(
        self, token_hash: str, grant: Grant, created_by: str, expires: datetime, mail: Mail
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO one_time_tokens (token_hash, tenant_id, purpose, email, user_id, "
                "roles, stores, created_by, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    token_hash,
                    grant.tenant_id,
                    grant.purpose,
                    grant.email,
                    grant.user_id,
                    sorted(grant.roles),
                    sorted_or_none(grant.stores),
                    created_by,
                    expires,
                ),
            )
            curs.execute(
                "INSERT INTO mail_outbox (tenant_id, recipient, subject, body) "
                "VALUES (%s, %s, %s, %s)",
                (mail.tenant_id, mail.recipient, mail.subject, mail.body),
            )

    def find_token(self, token_hash: str, purpose: str, now: datetime) -> Grant | None:
        with self.datastore.transaction() as curs:
            curs.execute(
                "SELECT purpose, tenant_id, email, user_id, roles, stores FROM one_time_tokens "
                "WHERE token_hash = %s AND purpose = %s AND used_at IS NULL AND expires_at > %s",
                (token_hash, purpose, now),
            )
            return _grant(curs.fetchone())

    def take_token(self, token_hash: str, purpose: str, now: datetime) -> Grant | None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE one_time_tokens SET used_at = %s WHERE token_hash = %s AND purpose = %s "
                "AND used_at IS NULL AND expires_at > %s "
                "RETURNING purpose, tenant_id, email, user_id, roles, stores",
                (now, token_hash, purpose, now),
            )
            return _grant(curs.fetchone())

    def _update(self, assignment: str, value: str, user_id: UUID) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"UPDATE users SET {assignment} WHERE id = %s", (value, user_id))
