"""Tenant isolation in depth: PostgreSQL row-level security on every read model (ADR 0034).

The API reads read models as `kontor_reader` (NOLOGIN, NOBYPASSRLS), a role the owner switches
to per transaction with `SET LOCAL ROLE`, together with `SET LOCAL kontor.tenant_id`. Its policy
shows only the rows of that tenant, and none when the setting is missing. Projectors and
migrations write as the tables' owner, which RLS does not restrict (it is not FORCEd).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

READER_ROLE = "kontor_reader"
TENANT_SETTING = "kontor.tenant_id"
READ_TIMEOUT = "30s"
"""An API read of the read models (a CSV export included) that runs longer is cancelled."""

# Roles are per cluster: concurrent migrations of two databases may race to create it.
CREATE_READER_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
        CREATE ROLE {READER_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$"""
GRANT_READER_ROLE = f"""
DO $$
BEGIN
    IF NOT pg_has_role(current_user, '{READER_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT {READER_ROLE} TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO {READER_ROLE}', current_schema());
END $$"""
ROLE_STATEMENTS = (CREATE_READER_ROLE, GRANT_READER_ROLE)


def isolation_ddl(table: str) -> tuple[str, ...]:
    """Enables RLS on a read-model table with a `tenant_id` column, and lets the reader role
    select the current tenant's rows. Idempotent; runs wherever the table is created (also in a
    rebuild's shadow schema: policies and grants move with the table)."""
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"""DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_policies WHERE schemaname = current_schema()
                   AND tablename = '{table}' AND policyname = 'tenant_isolation') THEN
        CREATE POLICY tenant_isolation ON {table} FOR SELECT TO {READER_ROLE}
        USING (tenant_id = nullif(current_setting('{TENANT_SETTING}', true), '')::uuid);
    END IF;
END $$""",
        f"GRANT SELECT ON {table} TO {READER_ROLE}",
    )


@contextmanager
def tenant_reads(datastore: Any, tenant_id: UUID) -> Iterator[Any]:
    """A read-only transaction that sees only `tenant_id`'s rows of the read models, whatever
    its queries forget to filter."""
    with datastore.transaction() as curs:
        curs.execute(f"SET LOCAL ROLE {READER_ROLE}")
        curs.execute(
            "SELECT set_config(%s, %s, true), set_config('statement_timeout', %s, true)",
            (TENANT_SETTING, str(tenant_id), READ_TIMEOUT),
        )
        yield curs
