"""Candidates for reservation expiry: open orders of stores with a TTL, placed before it ran out.

Reads the orders read model (it may lag: a candidate is only a hint, the order's own stream
decides) joined with the stores' catalog rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from application.expiry import Candidate

DUE = """
SELECT o.tenant_id, o.id AS order_id, s.ttl AS ttl_minutes
FROM orders_view o
JOIN LATERAL (
    SELECT (convert_from(c.state, 'UTF8')::jsonb ->> 'reservation_ttl_minutes')::int AS ttl
    FROM catalog c
    WHERE c.tenant_id = o.tenant_id AND c.kind = 'store' AND c.code = o.store
) s ON s.ttl IS NOT NULL
WHERE o.status IN ('placed', 'allocated', 'backordered')
  AND o.placed_at <= %(now)s - make_interval(mins => s.ttl)
ORDER BY o.placed_at
LIMIT %(limit)s
"""


class PostgresExpiryCandidates:
    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def due(self, now: datetime, limit: int) -> list[Candidate]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(DUE, {"now": now, "limit": limit})
            return msgspec.convert(curs.fetchall(), list[Candidate])
