"""ClickHouse through chdb (in-process) or a ClickHouse server, behind one client factory."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import clickhouse_connect
import msgspec
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.query import QueryResult


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


_lines = msgspec.json.Encoder()
# A JSON object given for a String column is stored as its text, byte for byte: an event's
# data goes in as the JSON it is, without escaping it into a string and back.
_PARSE = {"date_time_input_format": "best_effort", "input_format_json_read_objects_as_strings": 1}
# Kontor's partitioned tables never move a row's key to another partition (partitions follow
# immutable times), so FINAL may collapse duplicates within each partition only: much faster.
# Below 163,840 rows (20 granules) ClickHouse reads a table in one stream by default; the
# customers report does ~100 ns of work per customer-totals row in each of its passes, so a
# tenant's 160k customers were scored on one core. From two granules up, both cores read.
_READ = {
    "do_not_merge_across_partitions_select_final": 1,
    "merge_tree_min_rows_for_concurrent_read": 16_384,
    "merge_tree_min_bytes_for_concurrent_read": 1 << 20,
}


# Handles per chdb engine, one per core: two let both cores plan and run statements; four on
# two cores sped reports up during a catch-up but slowed the projector (ADR 0055).
HANDLES = max(2, min(4, os.cpu_count() or 2))
# Runs a report's statements beside the one the calling thread runs (`query_all`).
_together = ThreadPoolExecutor(HANDLES, thread_name_prefix="kontor-clickhouse")


class SharedClient:
    """One client for every thread of a process.

    chdb runs one engine per process, reached through connection handles, each made for one
    call at a time; a few handles (`HANDLES`) let threads query the engine at once: the API's
    requests, and a report's statements, which it sends together (`query_all`) because much of
    a small statement's time is the engine planning it on one core. A server's client is used
    as it is (clickhouse-connect's HTTP pool serves threads).

    Kontor's settings are the same for every call. A server takes them with each request; the
    chdb backend would apply a call's settings with SET and restore them afterwards, which
    costs a query of `system.settings` and two SETs per setting on every call (measured: as
    long as the projector's own rollup statements), so on chdb they are set once per handle."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._server: Client | None = None
        self._handles: queue.LifoQueue[Client] = queue.LifoQueue()
        if is_chdb(url):
            for _ in range(HANDLES):
                client = clickhouse_client(url)
                for name, value in {**_READ, **_PARSE}.items():
                    client.command(f"SET {name} = {value!r}")
                self._handles.put(client)
            self._read: dict[str, Any] | None = None
            self._parse: dict[str, Any] | None = None
        else:
            self._server = clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False)
            self._read, self._parse = _READ, _PARSE

    @contextlib.contextmanager
    def _client(self) -> Iterator[Client]:
        """A handle of its own for the call (waiting for one if all are busy); the server's
        client."""
        if self._server is not None:
            yield self._server
            return
        client = self._handles.get()
        try:
            yield client
        finally:
            self._handles.put(client)

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        with self._client() as client:
            return client.query(sql, parameters=parameters, settings=self._read)

    def query_all(self, calls: Sequence[tuple[str, dict[str, Any] | None]]) -> list[QueryResult]:
        """The queries' results in order, the queries run at the same time: statements that do
        not depend on each other's results."""
        ahead = [_together.submit(self.query, sql, params) for sql, params in calls[1:]]
        try:
            first = [self.query(*calls[0])] if calls else []
        finally:
            wait(ahead)
        return first + [future.result() for future in ahead]

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with self._client() as client:
            return client.command(sql, parameters=parameters, settings=self._read)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """Statements that share a session's state (temporary tables), run one after another:
        on chdb, on a handle held for all of them (each chdb connection is a session of its
        own); on a server, under a session id of their own."""
        if self._server is not None:
            yield Session(self._server, {**_READ, "session_id": uuid.uuid4().hex})
            return
        with self._client() as client:
            yield Session(client, None)

    def insert(
        self, table: str, rows: Sequence[Sequence[Any]], column_names: Sequence[str]
    ) -> None:
        """Inserts rows as JSON lines, which the engine parses: several times faster than
        clickhouse-connect's column serialisation in Python."""
        body = _lines.encode_lines(rows)
        with self._client() as client:
            client.raw_insert(
                table, list(column_names), body, fmt="JSONCompactEachRow", settings=self._parse
            )


class Session:
    """One ClickHouse session (`SharedClient.session`): its statements run one at a time, and
    see the temporary tables created in it. A server refuses a session's statements at the
    same time, and a chdb handle serves one call at a time."""

    def __init__(self, client: Client, settings: dict[str, Any] | None) -> None:
        self._client = client
        self._settings = settings

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        return self._client.query(sql, parameters=parameters, settings=self._settings)

    def query_all(self, calls: Sequence[tuple[str, dict[str, Any] | None]]) -> list[QueryResult]:
        """The queries' results in order, run one after another (see `SharedClient.query_all`)."""
        return [self.query(sql, params) for sql, params in calls]

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        return self._client.command(sql, parameters=parameters, settings=self._settings)


_shared: dict[str, SharedClient] = {}
_shared_lock = threading.Lock()


def shared_client(url: str) -> SharedClient:
    """The process's one client for `url` (a chdb engine can be opened once per process)."""
    with _shared_lock:
        client = _shared.get(url)
        if client is None:
            client = _shared[url] = SharedClient(url)
        return client
