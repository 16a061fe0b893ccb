"""Kontor's own tables beside the library's event table. Idempotent DDL, run by `migrate`."""

from __future__ import annotations

from adapters.postgres.billing import BILLING_TABLES
from adapters.postgres.customers import CUSTOMER_TABLES
from adapters.postgres.integration_schema import INTEGRATION_TABLES
from adapters.postgres.isolation import ROLE_STATEMENTS, isolation_ddl
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
    *INTEGRATION_TABLES,
    *CUSTOMER_TABLES,
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

# Positions are assigned after commit (ADR 0032). Writers insert with `notification_id` NULL and
# take `seq` from the old notification sequence: insertion order, used only to order a batch.
EVENTS_SEQUENCED: tuple[str, ...] = (
    "ALTER TABLE kontor_events ADD COLUMN IF NOT EXISTS seq bigint",
    "ALTER TABLE kontor_events ALTER COLUMN seq "
    "SET DEFAULT nextval('kontor_events_notification_id_seq')",
    "ALTER TABLE kontor_events ALTER COLUMN notification_id DROP DEFAULT, "
    "ALTER COLUMN notification_id DROP NOT NULL",
    "CREATE INDEX IF NOT EXISTS kontor_events_unsequenced ON kontor_events (seq) "
    "WHERE notification_id IS NULL",
    # Room on each page for the sequencer's new version of every row (ADR 0047): an update that
    # stays on its page is logged as the changed bytes only (PostgreSQL's prefix/suffix
    # compression), about a third of the WAL of one that moves. New pages only; costs disk.
    "ALTER TABLE kontor_events SET (fillfactor = 50)",
    # Unplaced rows stay out of the position index: writers don't all insert into its NULL end
    # (one hot page), and every reader's `notification_id > p` implies the predicate. Same name,
    # so the library's `CREATE UNIQUE INDEX IF NOT EXISTS` leaves it alone.
    """DO $$ BEGIN
        IF EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   WHERE c.relname = 'kontor_events_notification_id_idx' AND i.indpred IS NULL)
        THEN
            DROP INDEX kontor_events_notification_id_idx;
            CREATE UNIQUE INDEX kontor_events_notification_id_idx ON kontor_events
                (notification_id) WHERE notification_id IS NOT NULL;
        END IF;
    END $$""",
)

# One statement appends a whole command: idempotency row, catalog rows, then the events, without
# any table lock: concurrent appends commit in parallel (PostgreSQL's group commit). The events
# have no position yet; the sequencer gives them one after they commit.
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION kontor_append(
    ids uuid[], versions bigint[], topics text[], states bytea[],
    idem_tenant uuid, idem_key text, idem_hash text, idem_status int, idem_body bytea,
    idem_version bigint,
    cat_tenants uuid[], cat_kinds text[], cat_codes text[], cat_states bytea[],
    cat_versions bigint[]
) RETURNS void LANGUAGE plpgsql AS $$
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
    -- Tamper evidence (ADR 0020): each event's hash chains to the previous event of its stream.
    -- The previous event was committed before the caller loaded it; a missing one is a gap,
    -- refused like a lost race.
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
    INSERT INTO kontor_events (originator_id, originator_version, topic, state, hash)
    SELECT * FROM unnest(ids, versions, topics, states, hashes);
END
$$
"""

# The sequencer (ADR 0032). `kontor_place` gives every committed event without a position the
# next gapless positions, in insertion order, then notifies the readers; its caller holds the
# advisory lock, so runs are serialised, and each statement takes its snapshot after the lock
# (READ COMMITTED): it sees the previous run's positions and every append committed before now.
# A reader that passed position p saw a committed run; every later run starts above the largest
# position it sees, so nothing lands behind p.
PLACE_FUNCTION = """
CREATE OR REPLACE FUNCTION kontor_place() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
    assigned bigint;
BEGIN
    SELECT coalesce(max(notification_id), 0) INTO last FROM kontor_events;
    WITH pending AS (
        SELECT originator_id, originator_version, row_number() OVER (ORDER BY seq) AS n
        FROM kontor_events WHERE notification_id IS NULL
    )
    UPDATE kontor_events e SET notification_id = last + p.n FROM pending p
    WHERE e.originator_id = p.originator_id AND e.originator_version = p.originator_version;
    GET DIAGNOSTICS assigned = ROW_COUNT;
    IF assigned > 0 THEN
        NOTIFY kontor_events;
    END IF;
END
$$
"""

# Sequencing runs, driven by the writers themselves, without a queue (ADR 0047). A writer whose
# append has committed takes the sequencer lock if it is free and places everything pending,
# run after run, until nothing is pending; if the lock is taken, it leaves at once. Its events
# are not lost: it committed before it found the lock taken, so before the holder releases it,
# and every holder looks for pending events again after each run it commits (the same loop).
# A run is one `kontor_place` and its commit; the lock is released with the commit.
SEQUENCE_PENDING_PROCEDURE = """
CREATE OR REPLACE PROCEDURE kontor_sequence_pending() LANGUAGE plpgsql AS $$
BEGIN
    LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM kontor_events WHERE notification_id IS NULL);
        EXIT WHEN NOT pg_try_advisory_xact_lock(19279, 32);
        PERFORM kontor_place();
        COMMIT;
    END LOOP;
END
$$
"""

# Waits for the lock instead: every event committed before the call has its position when it
# returns. For the library's own insert path and for sweeps (`migrate`), not for the hot path.
SEQUENCE_ALL_PROCEDURE = """
CREATE OR REPLACE PROCEDURE kontor_sequence_all() LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(19279, 32);
    PERFORM kontor_place();
    COMMIT;
    CALL kontor_sequence_pending();
END
$$
"""

# What the recorder calls: the append, committed, then sequencing, in one round trip (CALL in
# autocommit may commit). Returns when the append committed, for callers that measure how soon
# readers see it (bench/write_path.py).
APPEND_SEQUENCED_PROCEDURE = """
CREATE OR REPLACE PROCEDURE kontor_append_sequenced(
    ids uuid[], versions bigint[], topics text[], states bytea[],
    idem_tenant uuid, idem_key text, idem_hash text, idem_status int, idem_body bytea,
    idem_version bigint,
    cat_tenants uuid[], cat_kinds text[], cat_codes text[], cat_states bytea[],
    cat_versions bigint[], INOUT committed_at timestamptz DEFAULT NULL
) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM kontor_append(ids, versions, topics, states, idem_tenant, idem_key, idem_hash,
        idem_status, idem_body, idem_version, cat_tenants, cat_kinds, cat_codes, cat_states,
        cat_versions);
    COMMIT;
    committed_at := clock_timestamp();
    CALL kontor_sequence_pending();
END
$$
"""

# The waiting sequencer of ADR 0032, replaced by the procedures above.
DROPPED_SEQUENCER: tuple[str, ...] = (
    "DROP PROCEDURE IF EXISTS kontor_append_sequenced(uuid[], bigint[], text[], bytea[], uuid, "
    "text, text, int, bytea, bigint, uuid[], text[], text[], bytea[], bigint[], bigint[])",
    "DROP FUNCTION IF EXISTS kontor_sequence(uuid[], bigint[])",
    "DROP FUNCTION IF EXISTS kontor_placed(uuid[], bigint[])",
)

# Reads here probe primary keys and notification-id ranges, which need no fresh statistics:
# analyze after 20% growth (the library's 1% meant hundreds of runs while the table grows).
# Every event is updated once by the sequencer, so vacuum must follow the dead rows it leaves
# (the library's threshold of 100M dead rows would let them pile up).
EVENTS_AUTOVACUUM = """
ALTER TABLE kontor_events SET (
    autovacuum_analyze_threshold = 10000,
    autovacuum_analyze_scale_factor = 0.2,
    autovacuum_vacuum_insert_threshold = 100000,
    autovacuum_vacuum_insert_scale_factor = 0.5,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_scale_factor = 0.05
)
"""

STATEMENTS: tuple[str, ...] = (
    *ROLE_STATEMENTS,
    *TABLES,
    *PEOPLE_TABLES,
    *BILLING_TABLES,
    EVENTS_HASH_COLUMN,
    EVENT_HASH_FUNCTION,
    *EVENTS_SEQUENCED,
    # The return type changed (positions now come from the sequencer).
    "DROP FUNCTION IF EXISTS kontor_append(uuid[], bigint[], text[], bytea[], uuid, text, text, "
    "int, bytea, bigint, uuid[], text[], text[], bytea[], bigint[])",
    APPEND_FUNCTION,
    PLACE_FUNCTION,
    *DROPPED_SEQUENCER,
    SEQUENCE_PENDING_PROCEDURE,
    SEQUENCE_ALL_PROCEDURE,
    APPEND_SEQUENCED_PROCEDURE,
    EVENTS_AUTOVACUUM,
    # Payout files are read beside the read models by reconciliation: the same isolation.
    *isolation_ddl("payout_lines"),
    *isolation_ddl("payout_imports"),
)
