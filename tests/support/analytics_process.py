"""A projector in a process of its own, for the kill -9 test: `BATCH [TENANT FROM TO]` catches
up, printing each batch's position, then (given a tenant and period) a JSON line of table counts
and money totals. Servers come from KONTOR_DATABASE_URL and KONTOR_CLICKHOUSE_URL."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from uuid import UUID

from adapters.embedded.clickhouse import shared_client
from interfaces.bootstrap import build_container
from interfaces.config import load_settings
from projections.analytics import queries
from projections.analytics.projector import FACT_TABLES, AnalyticsProjector


def main() -> None:
    settings = load_settings()
    assert settings.clickhouse_url is not None
    container = build_container(settings, pool_size=1)
    client = shared_client(settings.clickhouse_url)
    try:
        projector = AnalyticsProjector(container.datastore, client, batch_size=int(sys.argv[1]))
        projector.migrate()
        # Folding a batch while the one before is written, as `kontor analytics catch-up` does.
        projector.catch_up(lambda done, total: print(projector.position(), flush=True))
        if len(sys.argv) > 2:
            tenant, start, end = UUID(sys.argv[2]), *map(datetime.fromisoformat, sys.argv[3:5])
            counts = {
                t: client.query(f"SELECT count() FROM {t} FINAL").result_rows[0][0]
                for t in FACT_TABLES
                if t != "projector_position"
            }
            totals = queries.money_totals(client, queries.Scope(tenant, start, end))
            print(json.dumps({"counts": counts, "totals": totals}, default=str))
    finally:
        container.close()


if __name__ == "__main__":
    main()
