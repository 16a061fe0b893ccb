"""ClickHouse through chdb (in-process) or a ClickHouse server, behind one client factory."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client


def chdb_url(data_dir: Path) -> str:
    """The embedded default: a chdb data directory in `data_dir/clickhouse`."""
    path = data_dir.resolve() / "clickhouse"
    path.mkdir(parents=True, exist_ok=True)
    return f"chdb://{path}"


def is_chdb(url: str) -> bool:
    return urlsplit(url).scheme == "chdb"


def clickhouse_client(url: str) -> Client:
    """A clickhouse-connect client for `http(s)://user:pass@host:port/db` or `chdb:///abs/path`.
    chdb opens one data directory per process; clients on the same path share the engine."""
    return clickhouse_connect.get_client(dsn=url)
