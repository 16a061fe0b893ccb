"""Billing configuration over the API: what is set is listed back, per tenant only."""

from __future__ import annotations

from tests.api.conftest import Tenant, assert_problem


def test_configuration_is_listed_back(tenant: Tenant, other: Tenant) -> None:
    tenant.ok("/v1/billing/tax-rates", {"country": "DE", "rate": "0.19"}, 200)
    tenant.ok("/v1/billing/tax-rates", {"country": "US", "region": "CA", "rate": "0.0725"}, 200)
    tenant.ok("/v1/billing/settings", {"base_currency": "EUR", "merchant_name": "Muster"}, 200)
    tenant.ok(
        "/v1/billing/fx-rates",
        {"rates": [{"currency": "USD", "rate": "0.92", "valid_from": "2026-01-01T00:00:00Z"}]},
        200,
    )
    tenant.ok("/v1/billing/stores/web", {"invoice_on": "order", "payment_terms_days": 14}, 200)
    tenant.ok("/v1/billing/tax-exemptions", {"email": "b@example.org", "reason": "export"}, 200)

    def listed(name: str) -> list[dict[str, object]]:
        response = tenant.get(f"/v1/billing/{name}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    assert sorted(listed("tax-rates"), key=str) == sorted(
        [
            {"country": "DE", "region": None, "rate": "0.19"},
            {"country": "US", "region": "CA", "rate": "0.0725"},
        ],
        key=str,
    )
    (fx,) = listed("fx-rates")
    assert (fx["currency"], fx["base_currency"], fx["rate"]) == ("USD", "EUR", "0.92")
    assert listed("stores") == [
        {
            "store": "web",
            "invoice_on": "order",
            "prices_include_tax": False,
            "tax_rounding": "line",
            "payment_terms_days": 14,
        }
    ]
    assert listed("tax-exemptions") == [{"email": "b@example.org", "reason": "export"}]
    assert other.get("/v1/billing/tax-rates").json() == []
    assert_problem(tenant.get("/v1/billing/webhook-secrets"), 405)  # secrets are never shown


def test_bad_configuration_is_refused(tenant: Tenant) -> None:
    before = tenant.get("/v1/billing/tax-rates").json()
    assert_problem(tenant.post("/v1/billing/tax-rates", {"country": "DE", "rate": "19"}), 422)
    assert_problem(tenant.post("/v1/billing/stores/web", {"invoice_on": "never"}), 422)
    assert tenant.get("/v1/billing/tax-rates").json() == before
