"""Tables of the integrator and auditor features: relay position, tenant anchors, webhooks."""

from __future__ import annotations

INTEGRATION_TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS relay_positions (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())""",
    # The per-tenant anchor chain over the global order (ADR 0020). Never emptied by a rebuild.
    """CREATE TABLE IF NOT EXISTS audit_chain (
        tenant_id uuid NOT NULL,
        position bigint NOT NULL,
        event_hash bytea NOT NULL,
        chain_hash bytea NOT NULL,
        PRIMARY KEY (tenant_id, position))""",
    # One snapshot per 1,000 versions of a stream kept for good, so the state as of any
    # version replays at most about 1,000 events (the `snapshots` row holds only the latest).
    """CREATE TABLE IF NOT EXISTS snapshot_history (
        stream_id uuid NOT NULL,
        version bigint NOT NULL,
        state bytea NOT NULL,
        PRIMARY KEY (stream_id, version))""",
    """CREATE TABLE IF NOT EXISTS webhook_endpoints (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        url text NOT NULL,
        event_types text[] NOT NULL,
        secrets text[] NOT NULL,
        after_position bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz)""",
    "CREATE INDEX IF NOT EXISTS webhook_endpoints_tenant ON webhook_endpoints (tenant_id) "
    "WHERE deleted_at IS NULL",
    """CREATE TABLE IF NOT EXISTS webhook_deliveries (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        tenant_id uuid NOT NULL,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id),
        event_id uuid NOT NULL,
        position bigint NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_status_code int,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (endpoint_id, event_id))""",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) "
    "WHERE status IN ('pending', 'retrying')",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant ON webhook_deliveries (tenant_id, seq)",
    """CREATE TABLE IF NOT EXISTS webhook_attempts (
        delivery_id uuid NOT NULL,
        attempt int NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        status_code int,
        error text,
        duration_ms int NOT NULL,
        PRIMARY KEY (delivery_id, attempt))""",
)
