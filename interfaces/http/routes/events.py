"""The event catalog: JSON Schema of every event and the AsyncAPI 3 document of the subjects."""

from __future__ import annotations

from functools import cache

from litestar import Controller, Response, get

from application.access import Permission, Principal
from interfaces.event_catalog import render


@cache
def _document() -> bytes:
    return render()


class EventCatalogController(Controller):
    path = "/v1/events"
    tags = ["events"]

    @get("/catalog", sync_to_thread=False, permission=Permission.SELF)
    def catalog(self, principal: Principal) -> Response[bytes]:
        """The AsyncAPI 3 document of every event Kontor publishes to NATS JetStream, with the
        JSON Schema of each payload under `components.schemas`."""
        del principal  # any tenant may read it; authentication still applies
        return Response(_document(), media_type="application/json")
