"""Analytics: a period with its comparison, charts drawn from the reports, and a CSV export of
each view."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from application.context import CommandContext
from interfaces.bootstrap import Container
from interfaces.seed_history import seed_history
from tests.api.conftest import Tenant
from tests.api.test_analytics import project
from tests.browser.conftest import axe_violations, screenshots, unlabelled_controls


def test_the_analytics_page_charts_the_period_and_exports_csv(
    sign_in: Any, tenant: Tenant, container: Container
) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ctx = CommandContext(tenant_id=tenant.tenant_id, actor="system:test")
    seed_history(container, ctx, days=60, orders=90, skus=6, end=today)
    project(container)

    page = sign_in("analyst")
    page.goto("/dashboard/analytics")
    expect(page.locator('[data-chart="series"] canvas')).to_have_count(1)
    # The forecast fragment fits its model after the first paint: the first fit takes a while.
    expect(page.locator('[data-chart="forecast"] canvas')).to_have_count(1, timeout=30_000)
    expect(page.locator('[data-metric="net_sales"]').first).to_be_visible()
    expect(page.locator("[data-sku]").first).to_be_visible()
    screenshots(page, "analytics")
    assert not unlabelled_controls(page)
    assert not axe_violations(page)

    with page.expect_download() as download:
        page.locator('[data-export="breakdown"]').click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows
    assert set(rows[0]) == {"key", "currency", "value", "share_pct", "previous", "change_pct"}

    page.get_by_label("Metric").select_option("units")
    page.get_by_label("Interval").select_option("week")
    page.get_by_label("Compare with").select_option("previous_year")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Units per week")).to_be_visible()
    with page.expect_download() as download:
        page.locator('[data-export="timeseries"]').click()
    header = Path(download.value.path()).read_text().splitlines()[0]
    assert header == "bucket,currency,value,previous,change_pct"
    assert "compare=previous_year" in download.value.url


def test_a_period_ending_before_it_starts_is_refused_on_the_page(
    sign_in: Any, seeded: Tenant
) -> None:
    page = sign_in("analyst")
    today = datetime.now(UTC).date()
    response = page.goto(
        f"/dashboard/analytics?from_day={today}&to_day={today - timedelta(days=3)}"
    )
    assert response is not None
    assert response.status == 400
    expect(page.locator("[data-error-detail]")).to_have_text(
        "the first day must not lie after the last"
    )
