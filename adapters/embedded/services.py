"""Start the embedded default for every server the settings leave unset."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Generic, Protocol, TypeVar

import structlog

from adapters.embedded.clickhouse import chdb_url
from adapters.embedded.nats import start_nats
from adapters.embedded.postgres import start_postgres

log = structlog.get_logger("kontor.embedded")


class ServerSettings(Protocol):
    """What EmbeddedServices needs of `interfaces.config.Settings` (adapters do not import it)."""

    @property
    def database_url(self) -> str | None: ...
    @property
    def clickhouse_url(self) -> str | None: ...
    @property
    def nats_url(self) -> str | None: ...
    @property
    def data_dir(self) -> Path: ...
    def with_urls(self: S, **urls: str | None) -> S: ...


S = TypeVar("S", bound=ServerSettings)


class EmbeddedServices(Generic[S]):
    """`with EmbeddedServices(settings) as resolved:` gives settings with every URL filled in;
    leaving the block stops what was started, in reverse order. Redis stays unset: the
    in-process store stands in for it."""

    def __init__(self, settings: S, *, database_only: bool = False) -> None:
        self.settings = settings
        self.database_only = database_only
        self._stack = ExitStack()

    def __enter__(self) -> S:
        settings = self.settings
        data_dir = settings.data_dir
        with ExitStack() as stack:
            if settings.database_url is None:
                url = _start(stack, "postgres", lambda: start_postgres(data_dir))
                settings = settings.with_urls(database_url=url)
            if settings.nats_url is None and not self.database_only:
                url = _start(stack, "nats", lambda: start_nats(data_dir))
                settings = settings.with_urls(nats_url=url)
            if settings.clickhouse_url is None and not self.database_only:
                settings = settings.with_urls(clickhouse_url=chdb_url(data_dir))
                log.info("embedded clickhouse (chdb)", url=settings.clickhouse_url)
            self._stack = stack.pop_all()
        return settings

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()


class _Server(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def pid(self) -> int | None: ...
    def stop(self) -> None: ...


def _start(stack: ExitStack, name: str, start: Callable[[], _Server]) -> str:
    """Starts a server, registers its stop on `stack`, and returns its URL."""
    started = time.monotonic()
    server = start()
    stack.callback(_stopping, name, server.stop)
    log.info(
        f"embedded {name} started",
        url=server.url,
        pid=server.pid,
        seconds=round(time.monotonic() - started, 2),
    )
    return server.url


def _stopping(name: str, stop: Callable[[], None]) -> None:
    stop()
    log.info(f"embedded {name} stopped")
