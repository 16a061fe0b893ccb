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
)
