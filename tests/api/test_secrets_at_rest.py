"""Webhook endpoint secrets, payment gateway secrets and TOTP secrets are encrypted at rest."""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

import pyotp

from adapters.keyring import Keyring
from adapters.postgres.billing import PostgresBillingConfig
from adapters.postgres.secrets import reencrypt
from adapters.postgres.users import PostgresUserStore
from adapters.postgres.webhooks import endpoint_secret_context
from tests.api.conftest import Tenant
from tests.api.test_sessions import Browser


def raw(tenant: Tenant, sql: str) -> list[str]:
    with tenant.container.datastore.transaction() as curs:
        curs.execute(sql, (tenant.tenant_id,))
        return [str(value) for row in curs.fetchall() for value in row.values()]


def test_a_webhook_endpoint_secret_is_stored_encrypted(tenant: Tenant) -> None:
    created = tenant.ok("/v1/webhooks/endpoints", {"url": "https://hooks.example.com/kontor"})
    rotated = tenant.ok(f"/v1/webhooks/endpoints/{created['id']}/secrets", {})
    stored = raw(tenant, "SELECT secrets::text FROM webhook_endpoints WHERE tenant_id = %s")
    assert len(stored) == 1
    for secret in (created["secret"], rotated["secret"]):
        assert secret not in stored[0]
        assert secret.removeprefix("whsec_") not in stored[0]
    assert stored[0].count("enc1:") == 2


def test_a_payment_gateway_secret_is_stored_encrypted(tenant: Tenant) -> None:
    secret = "whsec_gateway_plaintext_0123456789"
    tenant.ok("/v1/billing/webhook-secrets", {"gateway": "stripe", "secret": secret}, 200)
    [stored] = raw(tenant, "SELECT secret FROM webhook_secrets WHERE tenant_id = %s")
    assert secret not in stored
    assert stored.startswith("enc1:")
    assert tenant.container.billing.webhook_secret(tenant.tenant_id, "stripe") == secret


def test_a_totp_secret_is_stored_encrypted_and_still_verifies(client: Any, tenant: Tenant) -> None:
    browser = Browser(client, tenant)
    assert browser.login(tenant.add_user("owner")).status_code == 201
    secret = browser.post("/v1/me/mfa/totp").json()["secret"]
    [pending] = raw(tenant, "SELECT totp_pending FROM users WHERE tenant_id = %s")
    assert secret not in pending
    confirmed = browser.post("/v1/me/mfa/totp/confirm", {"otp": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200, confirmed.text
    [stored] = raw(tenant, "SELECT totp_secret FROM users WHERE tenant_id = %s")
    assert secret not in stored
    assert stored.startswith("enc1:")


def test_the_secret_key_file_of_the_embedded_default_is_private(tenant: Tenant) -> None:
    settings = tenant.container.settings
    if settings.secret_key is None:
        mode = (settings.data_dir / "secret.key").stat().st_mode & 0o777
        assert mode == 0o600


def test_reencryption_moves_every_secret_to_the_new_key(client: Any, tenant: Tenant) -> None:
    endpoint = tenant.ok("/v1/webhooks/endpoints", {"url": "https://hooks.example.com/a"})
    gateway = {"gateway": "stripe", "secret": "whsec_gateway_00001"}
    tenant.ok("/v1/billing/webhook-secrets", gateway, 200)
    browser = Browser(client, tenant)
    assert browser.login(tenant.add_user("owner")).status_code == 201
    totp = browser.post("/v1/me/mfa/totp").json()["secret"]
    old = tenant.container.keyring
    rotated = Keyring({"rotated": os.urandom(32), **old.keys})

    assert reencrypt(tenant.container.datastore, rotated, tenant.tenant_id) == 3
    assert reencrypt(tenant.container.datastore, rotated, tenant.tenant_id) == 0

    new_only = Keyring({"rotated": rotated.keys["rotated"]})
    [sealed] = raw(tenant, "SELECT unnest(secrets) FROM webhook_endpoints WHERE tenant_id = %s")
    context = endpoint_secret_context(tenant.tenant_id)
    assert new_only.decrypt(sealed, context) == endpoint["secret"]
    assert (
        PostgresBillingConfig(tenant.container.datastore, new_only).webhook_secret(
            tenant.tenant_id, "stripe"
        )
        == "whsec_gateway_00001"
    )
    [user] = raw(tenant, "SELECT id FROM users WHERE tenant_id = %s")
    stored = PostgresUserStore(tenant.container.datastore, new_only).by_id(
        tenant.tenant_id, UUID(user)
    )
    assert stored is not None
    assert stored.totp_pending == totp
