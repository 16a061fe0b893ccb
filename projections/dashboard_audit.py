"""Audit index queries only the dashboard's Audit page needs."""

from __future__ import annotations

from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.audit_log import AuditEntry


def latest_entries(curs: Cursor[DictRow], tenant_id: UUID, *, limit: int) -> list[AuditEntry]:
    """The tenant's newest audit entries, newest first."""
    curs.execute(
        "SELECT position, stream_id, aggregate, version, type, actor, correlation_id, "
        "causation_id, request_id, recorded_at FROM audit_log WHERE tenant_id = %s "
        "ORDER BY position DESC LIMIT %s",
        (tenant_id, limit),
    )
    return msgspec.convert(curs.fetchall(), list[AuditEntry])
