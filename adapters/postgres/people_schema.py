"""Tables of users, sessions' durable side, one-time tokens, the mail outbox and the security log.

Sessions themselves live in the shared cache (Redis, or in-process by default); see ADR 0028.
"""

from __future__ import annotations

PEOPLE_TABLES: tuple[str, ...] = (
    "ALTER TABLE tenants ADD COLUMN IF NOT EXISTS require_mfa boolean NOT NULL DEFAULT false",
    "ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS roles text[] NOT NULL DEFAULT '{owner}'",
    "ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS stores text[]",
    "ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS created_by text",
    "ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS revoked_by text",
    """CREATE TABLE IF NOT EXISTS users (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        email text NOT NULL,
        password_hash text NOT NULL,
        roles text[] NOT NULL,
        stores text[],
        totp_secret text,
        totp_pending text,
        totp_last_step bigint,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, email))""",
    """CREATE TABLE IF NOT EXISTS recovery_codes (
        user_id uuid NOT NULL REFERENCES users(id),
        code_hash text NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (user_id, code_hash))""",
    """CREATE TABLE IF NOT EXISTS one_time_tokens (
        token_hash text PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        purpose text NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
        email text NOT NULL,
        user_id uuid REFERENCES users(id),
        roles text[],
        stores text[],
        created_by text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz)""",
    """CREATE TABLE IF NOT EXISTS mail_outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        recipient text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz)""",
    """CREATE INDEX IF NOT EXISTS mail_outbox_unsent ON mail_outbox (id) WHERE sent_at IS NULL""",
    """CREATE TABLE IF NOT EXISTS security_log (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        subject text NOT NULL,
        at timestamptz NOT NULL DEFAULT now())""",
    "ALTER TABLE security_log ADD COLUMN IF NOT EXISTS detail text",
    "ALTER TABLE security_log ADD COLUMN IF NOT EXISTS address text",
)
