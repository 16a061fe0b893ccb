"""Kontor's own tables beside the library's event table. Idempotent DDL, run by `migrate`."""

from __future__ import annotations

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS tenants (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id),
        name text NOT NULL,
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz)""",
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        tenant_id uuid NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status int NOT NULL,
        body bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, key))""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        stream_id uuid PRIMARY KEY,
        version bigint NOT NULL,
        state bytea NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS catalog (
        tenant_id uuid NOT NULL,
        kind text NOT NULL,
        code text NOT NULL,
        state bytea NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (tenant_id, kind, code))""",
)
