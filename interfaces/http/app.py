"""The Litestar application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from application.access import Permission
from interfaces.bootstrap import Container, build_container
from interfaces.config import load_settings
from interfaces.http.access import guard, principal_of
from interfaces.http.client import trust_proxies
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.http.protection import rate_limit, security_headers
from interfaces.http.request_log import log_as_json, request_context
from interfaces.http.routes.analytics import AnalyticsController, analytics_lifespan
from interfaces.http.routes.audit import AuditController
from interfaces.http.routes.billing import BillingController
from interfaces.http.routes.catalog import CatalogController
from interfaces.http.routes.customers import CustomerController
from interfaces.http.routes.events import EventCatalogController
from interfaces.http.routes.health import HealthController
from interfaces.http.routes.invoices import InvoiceController
from interfaces.http.routes.metrics import MetricsController
from interfaces.http.routes.movements import MovementController
from interfaces.http.routes.orders import OrderController
from interfaces.http.routes.payments import (
    OrderMoneyController,
    PaymentController,
    WebhookController,
)
from interfaces.http.routes.people import (
    ApiKeyController,
    MeController,
    PublicAccountController,
    SecurityController,
    SessionController,
    UserController,
)
from interfaces.http.routes.reconciliation import ReconciliationController
from interfaces.http.routes.returns import ReturnController
from interfaces.http.routes.shipments import ShipmentController
from interfaces.http.routes.shipping_settings import ShippingSettingsController
from interfaces.http.routes.stock import StockController
from interfaces.http.routes.webhooks import WebhookEndpointController
from interfaces.http.support import container_of
from interfaces.web.app import dashboard_router, static_router, template_config
from interfaces.web.live import live_lifespan

MAX_BODY_BYTES = 1_048_576


def create_app(container: Container) -> Litestar:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            container.close()

    return Litestar(
        route_handlers=[
            HealthController,
            CatalogController,
            StockController,
            OrderController,
            CustomerController,
            ShipmentController,
            ReturnController,
            MovementController,
            ShippingSettingsController,
            InvoiceController,
            PaymentController,
            OrderMoneyController,
            WebhookController,
            BillingController,
            ReconciliationController,
            AnalyticsController,
            AuditController,
            EventCatalogController,
            WebhookEndpointController,
            MetricsController,
            SessionController,
            MeController,
            UserController,
            PublicAccountController,
            ApiKeyController,
            SecurityController,
            dashboard_router(),
            static_router(),
        ],
        template_config=template_config(),
        dependencies={
            "container": Provide(container_of, sync_to_thread=False),
            "principal": Provide(principal_of, sync_to_thread=False),
        },
        guards=[guard],
        middleware=[
            trust_proxies(container.settings.trusted_proxies),
            request_context,
            rate_limit,
        ],
        before_send=[security_headers],
        cors_config=(
            CORSConfig(
                allow_origins=list(container.settings.cors_origins),
                allow_credentials=True,
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "Idempotency-Key",
                    "If-Match",
                    "X-CSRF-Token",
                    "X-Request-Id",
                    "X-Correlation-Id",
                ],
                expose_headers=["ETag", "Retry-After", "Idempotent-Replayed"],
            )
            if container.settings.cors_origins
            else None
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"container": container}),
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Kontor",
            version="1",
            description="Event-sourced commerce operations engine.",
            openapi_router=Router(
                "/schema", route_handlers=[], opt={"permission": Permission.PUBLIC}
            ),
        ),
        lifespan=[lifespan, analytics_lifespan(container), live_lifespan(container)],
    )


def create_app_from_env() -> Litestar:
    """Factory for the ASGI server's worker processes (settings come from the environment)."""
    log_as_json()
    app = create_app(build_container(load_settings()))
    settle_collector()
    return app


def settle_collector() -> None:
    """What a worker holds from start-up (modules, classes, the app: ~270,000 objects) lives as
    long as the process, yet every full collection walked it: 160-175 ms on two cores, every
    request of the worker waiting. Collected once, then frozen (`gc.freeze`), later collections
    walk only what came after. Not in `create_app`: a test process makes many apps."""
    gc.collect()
    gc.freeze()
