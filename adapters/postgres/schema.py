"""Kontor's own tables beside the library's event table. Idempotent DDL, run by `migrate`."""

from __future__ import annotations

from adapters.postgres.billing import BILLING_TABLES
from adapters.postgres.integration_schema import INTEGRATION_TABLES

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
    *INTEGRATION_TABLES,
)

# The stream hash chain (ADR 0020): sha256(previous hash || stream id || version || topic || NUL
# || stored envelope). The envelope holds the event and its metadata, exactly as stored.
# `adapters/postgres/chain.py` computes the same bytes in Python to verify.
EVENT_HASH_FUNCTION = """
CREATE OR REPLACE FUNCTION kontor_event_hash(
    previous bytea, stream_id uuid, version bigint, topic text, state bytea
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(previous, ''::bytea) || uuid_send(stream_id) || int8send(version)
        || convert_to(topic, 'UTF8') || decode('00', 'hex') || state)
$$
"""

EVENTS_HASH_COLUMN = "ALTER TABLE kontor_events ADD COLUMN IF NOT EXISTS hash bytea"

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
DECLARE
    hashes bytea[] := '{}';
    previous bytea;
BEGIN
    IF idem_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body, version)
        VALUES (idem_tenant, idem_key, idem_hash, idem_status, idem_body, idem_version);
    END IF;
    INSERT INTO catalog (tenant_id, kind, code, state, version)
    SELECT * FROM unnest(cat_tenants, cat_kinds, cat_codes, cat_states, cat_versions)
    ON CONFLICT (tenant_id, kind, code) DO UPDATE
    SET state = EXCLUDED.state, version = EXCLUDED.version;
    -- Tamper evidence (ADR 0020): each event's hash chains to the previous event of its stream,
    -- computed before the lock: the previous event was committed before the caller loaded it.
    -- A missing one is a gap, refused like a lost race.
    FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
        IF versions[i] = 1 THEN
            previous := ''::bytea;
        ELSIF i > 1 AND ids[i - 1] = ids[i] AND versions[i - 1] = versions[i] - 1 THEN
            previous := hashes[i - 1];
        ELSE
            SELECT e.hash INTO previous FROM kontor_events e
            WHERE e.originator_id = ids[i] AND e.originator_version = versions[i] - 1;
            IF NOT FOUND THEN
                RAISE unique_violation USING MESSAGE = format(
                    'stream %s has no version %s to follow', ids[i], versions[i] - 1);
            END IF;
        END IF;
        hashes[i] := kontor_event_hash(previous, ids[i], versions[i], topics[i], states[i]);
    END LOOP;
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE kontor_events IN EXCLUSIVE MODE;
    NOTIFY kontor_events;
    RETURN QUERY
    INSERT INTO kontor_events (originator_id, originator_version, topic, state, hash)
    SELECT * FROM unnest(ids, versions, topics, states, hashes)
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
    *BILLING_TABLES,
    EVENTS_HASH_COLUMN,
    EVENT_HASH_FUNCTION,
    APPEND_FUNCTION,
    EVENTS_AUTOVACUUM,
)
