"""The event catalog: generated from the event Structs, served, and committed up to date."""

from __future__ import annotations

from domain.shared.events import EVENT_TYPES
from interfaces.event_catalog import DOCUMENT, domain_events, render
from tests.api.conftest import Tenant


def test_the_committed_catalog_is_up_to_date() -> None:
    assert DOCUMENT.read_bytes() == render(), (
        "docs/events/asyncapi.json is stale: run `kontor events catalog` and commit it"
    )


def test_every_concrete_domain_event_has_a_channel_and_a_schema(tenant: Tenant) -> None:
    response = tenant.get("/v1/events/catalog")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"].startswith("3.")
    topics = {cls.topic() for cls in domain_events()}
    assert set(document["channels"]) == topics
    assert "order.OrderPlaced" in topics
    assert "probe.ProbeTicked" not in topics  # test-only events stay out
    for topic in topics:
        name = EVENT_TYPES[topic].__name__
        schema = document["components"]["schemas"][name]
        assert schema["type"] == "object"
        channel = document["channels"][topic]
        assert channel["address"] == f"kontor.{{tenant_id}}.{topic}"


def test_the_catalog_needs_an_api_key(tenant: Tenant) -> None:
    assert tenant.client.get("/v1/events/catalog").status_code == 401
