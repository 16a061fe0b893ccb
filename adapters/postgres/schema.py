"""Kontor's own tables beside the library's event table. Idempotent DDL, run by `migrate`."""

from __future__ import annotations

from adapters.postgres.billing import BILLING_TABLES
from adapters.postgres.people_schema import PEOPLE_TABLES

TABLES: tuple[str, ...] = (
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
        version bigint,
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

# One statement appends a whole command: idempotency row, catalog rows, then the events under
# the library's table lock. Called in autocommit mode, it commits when it returns, so the lock
# is held only while PostgreSQL executes it, never across a client round trip (where a Python
# thread waiting for the GIL would keep every other writer waiting too).
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION kontor_append(
    ids uuid[], versions bigint[], topics text[], states bytea[],
    idem_tenant uuid, idem_key text, idem_hash text, idem_status int, idem_body bytea,
    idem_version bigint,
    cat_tenants uuid[], cat_kinds text[], cat_codes text[], cat_states bytea[],
    cat_versions bigint[]
) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    IF idem_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body, version)
        VALUES (idem_tenant, idem_key, idem_hash, idem_status, idem_body, idem_version);
    END IF;
    INSERT INTO catalog (tenant_id, kind, code, state, version)
    SELECT * FROM unnest(cat_tenants, cat_kinds, cat_codes, cat_states, cat_versions)
    ON CONFLICT (tenant_id, kind, code) DO UPDATE
    SET state = EXCLUDED.state, version = EXCLUDED.version;
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE kontor_events IN EXCLUSIVE MODE;
    NOTIFY kontor_events;
    RETURN QUERY
    INSERT INTO kontor_events (originator_id, originator_version, topic, state)
    SELECT * FROM unnest(ids, versions, topics, states)
    RETURNING notification_id;
END
$$
"""

# Autovacuum (and auto-ANALYZE) takes SHARE UPDATE EXCLUSIVE, which conflicts with the appenders'
# EXCLUSIVE table lock: while it runs, every write waits. The library creates the table with
# ANALYZE after 1,000 rows + 1% growth, i.e. hundreds of times while it grows; reads here probe
# primary keys and notification-id ranges, which need no fresh statistics. Analyze and vacuum
# after 20-50% growth instead (anti-wraparound vacuum still runs whenever it must).
EVENTS_AUTOVACUUM = """
ALTER TABLE kontor_events SET (
    autovacuum_analyze_threshold = 10000,
    autovacuum_analyze_scale_factor = 0.2,
    autovacuum_vacuum_insert_threshold = 100000,
    autovacuum_vacuum_insert_scale_factor = 0.5
)
"""

STATEMENTS: tuple[str, ...] = (
    *TABLES,
    *PEOPLE_TABLES,
    *BILLING_TABLES,
    APPEND_FUNCTION,
    EVENTS_AUTOVACUUM,
)
