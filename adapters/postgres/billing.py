"""Billing reference data (policies, rates, exemptions, secrets, payout files) and the event
feed of the invoicing process manager."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from adapters.postgres.mapper import decode_event
from application.billing import IssueTerms, StorePolicy, TenantBilling
from application.ports import IdempotentWrite, Recorded

BILLING_TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS billing_settings (
        tenant_id uuid PRIMARY KEY,
        base_currency text NOT NULL,
        merchant_name text NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS store_billing (
        tenant_id uuid NOT NULL,
        store text NOT NULL,
        invoice_on text NOT NULL,
        prices_include_tax boolean NOT NULL,
        tax_rounding text NOT NULL,
        payment_terms_days int NOT NULL,
        PRIMARY KEY (tenant_id, store))""",
    """CREATE TABLE IF NOT EXISTS tax_rates (
        tenant_id uuid NOT NULL,
        country text NOT NULL,
        region text NOT NULL DEFAULT '',
        rate numeric NOT NULL,
        PRIMARY KEY (tenant_id, country, region))""",
    """CREATE TABLE IF NOT EXISTS fx_rates (
        tenant_id uuid NOT NULL,
        currency text NOT NULL,
        base_currency text NOT NULL,
        valid_from timestamptz NOT NULL,
        rate numeric NOT NULL,
        PRIMARY KEY (tenant_id, currency, base_currency, valid_from))""",
    """CREATE TABLE IF NOT EXISTS tax_exemptions (
        tenant_id uuid NOT NULL,
        email text NOT NULL,
        reason text NOT NULL,
        PRIMARY KEY (tenant_id, email))""",
    """CREATE TABLE IF NOT EXISTS webhook_secrets (
        tenant_id uuid NOT NULL,
        gateway text NOT NULL,
        secret text NOT NULL,
        PRIMARY KEY (tenant_id, gateway))""",
    """CREATE TABLE IF NOT EXISTS process_positions (
        reader text PRIMARY KEY,
        position bigint NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS payout_lines (
        tenant_id uuid NOT NULL,
        import_id uuid NOT NULL,
        row_no int NOT NULL,
        kind text NOT NULL,
        reference text NOT NULL,
        amount numeric NOT NULL,
        currency text NOT NULL,
        imported_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, import_id, row_no))""",
    "CREATE INDEX IF NOT EXISTS payout_lines_reference ON payout_lines (tenant_id, reference)",
    """CREATE TABLE IF NOT EXISTS payout_imports (
        tenant_id uuid NOT NULL,
        import_id uuid NOT NULL,
        gateway text NOT NULL,
        lines int NOT NULL,
        imported_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, import_id))""",
    "CREATE INDEX IF NOT EXISTS payout_imports_recent "
    "ON payout_imports (tenant_id, imported_at DESC, import_id DESC)",
)

# Everything issuing an invoice reads, in one round trip (the same rules as the single reads
# below: the region's tax rate before the country's, the newest FX rate valid at issue time).
ISSUE_TERMS = """
WITH settings AS (
    SELECT coalesce(b.base_currency, 'EUR') AS base_currency,
        coalesce(b.merchant_name, t.name, '') AS merchant_name
    FROM (SELECT 1) one LEFT JOIN tenants t ON t.id = %(tenant)s
    LEFT JOIN billing_settings b ON b.tenant_id = %(tenant)s)
SELECT s.base_currency, s.merchant_name,
    p.invoice_on, p.prices_include_tax, p.tax_rounding, p.payment_terms_days,
    coalesce((SELECT rate FROM tax_rates WHERE tenant_id = %(tenant)s AND country = %(country)s
              AND region IN ('', %(region)s) ORDER BY region DESC LIMIT 1), 0) AS tax_rate,
    (SELECT reason FROM tax_exemptions WHERE tenant_id = %(tenant)s
     AND email = lower(%(email)s)) AS exemption,
    (SELECT rate FROM fx_rates WHERE tenant_id = %(tenant)s AND currency = %(currency)s
     AND base_currency = s.base_currency AND valid_from <= %(at)s
     ORDER BY valid_from DESC LIMIT 1) AS fx_rate
FROM settings s
LEFT JOIN store_billing p ON p.tenant_id = %(tenant)s AND p.store = %(store)s
"""

_REMEMBER = (
    "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body, version) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


class PostgresBillingConfig:
    """Implements BillingConfig; its setters write the idempotency row in the same transaction."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def _one(self, sql: str, params: Sequence[Any]) -> dict[str, Any] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql, params, prepare=True)  # type: ignore[arg-type]
            row = curs.fetchone()
        return dict(row) if row is not None else None

    def _write(
        self, statements: Sequence[tuple[str, Sequence[Any]]], idem: IdempotentWrite | None
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for sql, params in statements:
                curs.execute(sql, params)  # type: ignore[arg-type]
            if idem is not None:
                _remember(curs, idem)

    # --- reads (the BillingConfig port) ------------------------------------------------------

    def store_policy(self, tenant_id: UUID, store: str) -> StorePolicy:
        row = self._one(
            "SELECT invoice_on, prices_include_tax, tax_rounding, payment_terms_days "
            "FROM store_billing WHERE tenant_id = %s AND store = %s",
            (tenant_id, store),
        )
        return msgspec.convert(row, StorePolicy) if row else StorePolicy()

    def issue_terms(
        self,
        tenant_id: UUID,
        *,
        store: str,
        country: str,
        region: str | None,
        customer_email: str,
        currency: str,
        at: datetime,
    ) -> IssueTerms:
        row = self._one(
            ISSUE_TERMS,
            {
                "tenant": tenant_id,
                "store": store,
                "country": country,
                "region": region or "",
                "email": customer_email,
                "currency": currency,
                "at": at,
            },
        )
        assert row is not None
        policy = {k: row[k] for k in StorePolicy.__struct_fields__ if row[k] is not None}
        return IssueTerms(
            policy=msgspec.convert(policy, StorePolicy),
            tenant=TenantBilling(
                base_currency=row["base_currency"], merchant_name=row["merchant_name"]
            ),
            tax_rate=Decimal(row["tax_rate"]),
            exemption=row["exemption"],
            fx_rate=Decimal(row["fx_rate"]) if row["fx_rate"] is not None else None,
        )

    def tenant(self, tenant_id: UUID) -> TenantBilling:
        row = self._one(
            "SELECT coalesce(b.base_currency, 'EUR') AS base_currency, "
            "coalesce(b.merchant_name, t.name, '') AS merchant_name FROM tenants t "
            "LEFT JOIN billing_settings b ON b.tenant_id = t.id WHERE t.id = %s",
            (tenant_id,),
        )
        return TenantBilling(**row) if row else TenantBilling()

    def tax_rate(self, tenant_id: UUID, country: str, region: str | None) -> Decimal:
        row = self._one(
            "SELECT rate FROM tax_rates WHERE tenant_id = %s AND country = %s "
            "AND region IN ('', %s) ORDER BY region DESC LIMIT 1",
            (tenant_id, country, region or ""),
        )
        return Decimal(row["rate"]) if row else Decimal(0)

    def fx_rate(self, tenant_id: UUID, currency: str, base: str, at: datetime) -> Decimal | None:
        row = self._one(
            "SELECT rate FROM fx_rates WHERE tenant_id = %s AND currency = %s "
            "AND base_currency = %s AND valid_from <= %s ORDER BY valid_from DESC LIMIT 1",
            (tenant_id, currency, base, at),
        )
        return Decimal(row["rate"]) if row else None

    def exemption(self, tenant_id: UUID, customer_email: str) -> str | None:
        row = self._one(
            "SELECT reason FROM tax_exemptions WHERE tenant_id = %s AND email = lower(%s)",
            (tenant_id, customer_email),
        )
        return str(row["reason"]) if row else None

    def webhook_secret(self, tenant_id: UUID, gateway: str) -> str | None:
        row = self._one(
            "SELECT secret FROM webhook_secrets WHERE tenant_id = %s AND gateway = %s",
            (tenant_id, gateway),
        )
        return str(row["secret"]) if row else None

    def listing(self, table: str, tenant_id: UUID) -> list[dict[str, Any]]:
        columns = {
            "tax_rates": "country, nullif(region, '') AS region, rate",
            "fx_rates": "currency, base_currency, valid_from, rate",
            "store_billing": "store, invoice_on, prices_include_tax, tax_rounding, "
            "payment_terms_days",
            "tax_exemptions": "email, reason",
        }[table]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT {columns} FROM {table} WHERE tenant_id = %s ORDER BY 1, 2",  # type: ignore[arg-type]
                (tenant_id,),
            )
            return [dict(row) for row in curs.fetchall()]

    # --- writes ------------------------------------------------------------------------------

    def set_tenant(
        self, tenant_id: UUID, settings: TenantBilling, idem: IdempotentWrite | None = None
    ) -> None:
        self._write(
            [
                (
                    "INSERT INTO billing_settings VALUES (%s, %s, %s) ON CONFLICT (tenant_id) DO "
                    "UPDATE SET base_currency = EXCLUDED.base_currency, "
                    "merchant_name = EXCLUDED.merchant_name",
                    (tenant_id, settings.base_currency, settings.merchant_name),
                )
            ],
            idem,
        )

    def set_store_policy(
        self, tenant_id: UUID, store: str, policy: StorePolicy, idem: IdempotentWrite | None = None
    ) -> None:
        self._write(
            [
                (
                    "INSERT INTO store_billing VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (tenant_id, store) DO UPDATE "
                    "SET invoice_on = EXCLUDED.invoice_on, "
                    "prices_include_tax = EXCLUDED.prices_include_tax, "
                    "tax_rounding = EXCLUDED.tax_rounding, "
                    "payment_terms_days = EXCLUDED.payment_terms_days",
                    (
                        tenant_id,
                        store,
                        str(policy.invoice_on),
                        policy.prices_include_tax,
                        str(policy.tax_rounding),
                        policy.payment_terms_days,
                    ),
                )
            ],
            idem,
        )

    def set_tax_rate(
        self,
        tenant_id: UUID,
        country: str,
        region: str | None,
        rate: Decimal,
        idem: IdempotentWrite | None = None,
    ) -> None:
        self._write(
            [
                (
                    "INSERT INTO tax_rates VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (tenant_id, country, region) DO UPDATE SET rate = EXCLUDED.rate",
                    (tenant_id, country, region or "", rate),
                )
            ],
            idem,
        )

    def set_fx_rates(
        self,
        tenant_id: UUID,
        rates: Sequence[tuple[str, str, datetime, Decimal]],
        idem: IdempotentWrite | None = None,
    ) -> None:
        """(currency, base currency, valid from, rate) rows, replacing any with the same key."""
        self._write(
            [
                (
                    "INSERT INTO fx_rates VALUES (%s, %s, %s, %s, %s) ON CONFLICT "
                    "(tenant_id, currency, base_currency, valid_from) DO UPDATE "
                    "SET rate = EXCLUDED.rate",
                    (tenant_id, currency, base, valid_from, rate),
                )
                for currency, base, valid_from, rate in rates
            ],
            idem,
        )

    def set_exemption(
        self, tenant_id: UUID, email: str, reason: str, idem: IdempotentWrite | None = None
    ) -> None:
        self._write(
            [
                (
                    "INSERT INTO tax_exemptions VALUES (%s, lower(%s), %s) "
                    "ON CONFLICT (tenant_id, email) DO UPDATE SET reason = EXCLUDED.reason",
                    (tenant_id, email, reason),
                )
            ],
            idem,
        )

    def set_webhook_secret(
        self, tenant_id: UUID, gateway: str, secret: str, idem: IdempotentWrite | None = None
    ) -> None:
        self._write(
            [
                (
                    "INSERT INTO webhook_secrets VALUES (%s, %s, %s) "
                    "ON CONFLICT (tenant_id, gateway) DO UPDATE SET secret = EXCLUDED.secret",
                    (tenant_id, gateway, secret),
                )
            ],
            idem,
        )

    def save_payout_lines(
        self,
        tenant_id: UUID,
        import_id: UUID,
        gateway: str,
        lines: Sequence[tuple[str, str, Decimal, str]],
        idem: IdempotentWrite | None = None,
    ) -> None:
        """(kind, reference, amount, currency) rows of one gateway payout file."""
        self._write(
            [
                (
                    "INSERT INTO payout_imports (tenant_id, import_id, gateway, lines, "
                    "imported_at) VALUES (%s, %s, %s, %s, now())",
                    (tenant_id, import_id, gateway, len(lines)),
                ),
                *(
                    (
                        "INSERT INTO payout_lines (tenant_id, import_id, row_no, kind, "
                        "reference, amount, currency) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (tenant_id, import_id, row_no, kind, reference, amount, currency),
                    )
                    for row_no, (kind, reference, amount, currency) in enumerate(lines, start=1)
                ),
            ],
            idem,
        )


def _remember(curs: Cursor[Any], write: IdempotentWrite) -> None:
    response = write.response
    curs.execute(
        _REMEMBER,
        (
            write.tenant_id,
            write.key,
            response.request_hash,
            response.status,
            response.body,
            response.version,
        ),
    )


class PostgresEventFeed:
    """Implements EventFeed over the events table (appends take the table lock, so a
    notification id never commits after a larger one)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def read(self, after: int, topics: Sequence[str], limit: int) -> list[tuple[int, Recorded]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM kontor_events WHERE notification_id > %s AND topic = ANY(%s) "
                "ORDER BY notification_id LIMIT %s",
                (after, list(topics), limit),
                prepare=True,
            )
            rows = curs.fetchall()
        batch = []
        for row in rows:
            event, metadata = decode_event(row["topic"], bytes(row["state"]))
            batch.append(
                (
                    int(row["notification_id"]),
                    Recorded(row["originator_id"], row["originator_version"], event, metadata),
                )
            )
        return batch

    def position(self, reader: str) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT position FROM process_positions WHERE reader = %s", (reader,))
            row = curs.fetchone()
        return int(row["position"]) if row else 0

    def save_position(self, reader: str, position: int) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO process_positions VALUES (%s, %s) ON CONFLICT (reader) "
                "DO UPDATE SET position = greatest(process_positions.position, EXCLUDED.position)",
                (reader, position),
            )
