"""The composition root: the only place that knows which adapter serves which port."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from adapters.cache import MemoryCache, RedisCache
from adapters.carriers.ratecard import RateCardCarriers, load_boxes, load_rate_cards
from adapters.keyring import Keyring, load_keyring
from adapters.mail import LogMailer, MailOutbox
from adapters.personal_data import PersonalDataSeal
from adapters.postgres.billing import PostgresBillingConfig, PostgresEventFeed
from adapters.postgres.catalog import PostgresCatalog
from adapters.postgres.customers import PostgresCustomerKeys
from adapters.postgres.event_store import KontorEvents, PostgresEventStore, library_env
from adapters.postgres.expiry import PostgresExpiryCandidates
from adapters.postgres.history import PostgresHistory
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.mapper import use_personal_data
from adapters.postgres.schema import STATEMENTS
from adapters.postgres.snapshots import PostgresSnapshotStore
from adapters.postgres.tenants import PostgresTenantStore
from adapters.postgres.users import PostgresUserStore
from adapters.postgres.webhooks import WebhookStore
from adapters.security import Argon2Hasher, PyotpTotp, password_problems
from adapters.webhooks.guard import Guard
from application.catalog import CatalogCommands
from application.customers import CustomerCommands
from application.executor import Executor
from application.expiry import ReservationExpiry
from application.fulfilment import FulfilmentCommands
from application.invoices import InvoiceCommands
from application.invoicing import InvoicingProcess
from application.orders import OrderCommands
from application.ports import Cache
from application.rate_limits import Limits, RateLimiter
from application.returns import ReturnCommands
from application.sessions import Sessions
from application.shipping_settings import ShippingDefaults, ShippingSettingsCommands
from application.stock import StockCommands
from application.stock_settings import StockSettingsCommands
from application.streams import Streams
from application.tenants import Tenants
from application.users import Users
from domain.analytics import events as _analytics_events  # noqa: F401  (registers its topics)
from interfaces.config import Settings
from interfaces.fulfilment_settings import FulfilmentSettings
from projections.runner import PROJECTIONS, construct_view

MIGRATION_LOCK = 7_700_001


@dataclass
class Container:
    settings: Settings
    env: dict[str, str]
    events: KontorEvents
    store: PostgresEventStore
    datastore: Any
    streams: Streams
    catalog: PostgresCatalog
    catalog_commands: CatalogCommands
    stock: StockCommands
    orders: OrderCommands
    tenants: Tenants
    idempotency: PostgresIdempotencyStore
    cache: Cache
    fulfilment: FulfilmentCommands
    returns: ReturnCommands
    shipping_settings: ShippingSettingsCommands
    stock_settings: StockSettingsCommands
    expiry: ReservationExpiry
    billing: PostgresBillingConfig
    invoices: InvoiceCommands
    invoicing: InvoicingProcess
    webhooks: WebhookStore
    webhook_guard: Guard
    history: PostgresHistory
    sessions: Sessions
    users: Users
    outbox: MailOutbox
    limiter: RateLimiter
    keyring: Keyring
    customer_keys: PostgresCustomerKeys
    customers: CustomerCommands

    def close(self) -> None:
        self.events.close()


def _database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise RuntimeError(
            "KONTOR_DATABASE_URL is not set; start Kontor with `kontor serve` (which starts the "
            "embedded PostgreSQL) or point KONTOR_DATABASE_URL at a PostgreSQL server"
        )
    return settings.database_url


def migrate(settings: Settings) -> None:
    """Creates or updates every table Kontor needs. Safe to run repeatedly and concurrently:
    a session advisory lock lets one migration run at a time."""
    url = _database_url(settings)
    env = library_env(url, pool_size=1, create_tables=True)
    with psycopg.connect(url, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        events = KontorEvents(env=env)
        try:
            with events.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
                for statement in STATEMENTS:
                    curs.execute(statement)
            # Appends whose writer stopped between commit and sequencing get their positions.
            events.recorder.sequence()  # type: ignore[attr-defined]
            for name in PROJECTIONS:
                construct_view(name, env).datastore.close()
        finally:
            events.close()
            lock.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def build_container(settings: Settings, *, pool_size: int = 16) -> Container:
    env = library_env(_database_url(settings), pool_size=pool_size)
    events = KontorEvents(env=env)
    datastore = events.recorder.datastore  # type: ignore[attr-defined]
    store = PostgresEventStore(events)
    streams = Streams(store, PostgresSnapshotStore(datastore))
    idempotency = PostgresIdempotencyStore(datastore)
    executor = Executor(store, streams, idempotency)
    catalog = PostgresCatalog(datastore)
    cache: Cache = (
        RedisCache(settings.redis_url, settings.cache_namespace)
        if settings.redis_url
        else MemoryCache()
    )
    fulfilment = FulfilmentSettings.from_env()
    cards, boxes = load_rate_cards(fulfilment.rate_cards), load_boxes(fulfilment.box_catalogue)
    shipping = ShippingSettingsCommands(
        executor,
        streams,
        ShippingDefaults(
            boxes=boxes.boxes,
            box_version=boxes.version,
            cards=cards.cards,
            card_version=cards.version,
        ),
        RateCardCarriers,
    )
    keyring = load_keyring(settings.secret_key, settings.data_dir)
    customer_keys = install_personal_data(settings, keyring)
    billing = PostgresBillingConfig(datastore, keyring)
    invoices = InvoiceCommands(executor, streams, billing)
    hasher = Argon2Hasher()
    sessions = Sessions(cache)
    return Container(
        settings=settings,
        env=env,
        events=events,
        store=store,
        datastore=datastore,
        streams=streams,
        catalog=catalog,
        catalog_commands=CatalogCommands(executor, catalog),
        stock=StockCommands(executor, catalog),
        orders=OrderCommands(executor, streams, catalog, customer_keys),
        tenants=Tenants(PostgresTenantStore(datastore), hasher, cache),
        idempotency=idempotency,
        cache=cache,
        fulfilment=FulfilmentCommands(executor, streams, catalog, shipping),
        shipping_settings=shipping,
        returns=ReturnCommands(executor, streams, catalog, fulfilment.return_window),
        stock_settings=StockSettingsCommands(executor, catalog),
        expiry=ReservationExpiry(executor, streams, PostgresExpiryCandidates(datastore)),
        billing=billing,
        invoices=invoices,
        invoicing=InvoicingProcess(PostgresEventFeed(datastore), invoices, billing),
        webhooks=WebhookStore(datastore, keyring),
        webhook_guard=webhook_guard(settings),
        history=PostgresHistory(datastore),
        sessions=sessions,
        users=Users(
            PostgresUserStore(datastore, keyring),
            hasher,
            sessions,
            cache,
            password_problems,
            PyotpTotp(),
            base_url=f"http://{settings.host}:{settings.port}",
        ),
        outbox=MailOutbox(datastore, LogMailer()),
        limiter=RateLimiter(
            cache,
            Limits(
                settings.rate_limit_per_key, settings.rate_limit_per_ip, settings.rate_limit_window
            ),
        ),
        keyring=keyring,
        customer_keys=customer_keys,
        customers=CustomerCommands(executor, streams, customer_keys),
    )


_customer_keys: dict[str, PostgresCustomerKeys] = {}


def install_personal_data(
    settings: Settings, keyring: Keyring | None = None
) -> PostgresCustomerKeys:
    """The customers' keys, installed in the event mapper of this process so that personal data
    is sealed and opened (ADR 0035). One per database per process, kept for its lifetime."""
    url = _database_url(settings)
    keys = _customer_keys.get(url)
    if keys is None:
        keyring = keyring or load_keyring(settings.secret_key, settings.data_dir)
        pool = ConnectionPool(url, min_size=1, max_size=4, kwargs={"autocommit": True})
        keys = _customer_keys[url] = PostgresCustomerKeys(pool, keyring)
    use_personal_data(PersonalDataSeal(keys.key))
    return keys


def webhook_guard(settings: Settings) -> Guard:
    """Webhooks never target this API; KONTOR_WEBHOOK_BLOCK_PRIVATE=1 (production) also refuses
    loopback, private and link-local addresses (ADR 0023)."""
    block = os.environ.get("KONTOR_WEBHOOK_BLOCK_PRIVATE", "").lower() in {"1", "true", "yes"}
    return Guard(settings.host, settings.port, block_private=block)
