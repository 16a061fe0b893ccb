from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from interfaces.config import Settings
from tests.support.servers import (
    clickhouse_url,
    fresh_database,
    nats_server,
    postgres_server,
    redis_url,
    scratch_dir,
)


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per test session (and xdist worker): prefix shared names with it."""
    return secrets.token_hex(6)


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    with scratch_dir() as path:
        yield path


@pytest.fixture(scope="session")
def database_url(data_dir: Path, run_id: str) -> Iterator[str]:
    """A fresh database `kontor_test_<hex>`, dropped at the end of the session."""
    with ExitStack() as stack:
        server_url = stack.enter_context(postgres_server(data_dir))
        yield stack.enter_context(fresh_database(server_url, f"kontor_test_{run_id}"))


@pytest.fixture(scope="session")
def nats_url(data_dir: Path) -> Iterator[str]:
    with nats_server(data_dir) as url:
        yield url


@pytest.fixture(scope="session")
def settings(data_dir: Path, database_url: str, nats_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        clickhouse_url=clickhouse_url(data_dir),
        nats_url=nats_url,
        redis_url=redis_url(),
        data_dir=data_dir,
        # One client address sends the whole suite; test_protection checks the limits themselves.
        rate_limit_per_key=1_000_000,
        rate_limit_per_ip=1_000_000,
    )
