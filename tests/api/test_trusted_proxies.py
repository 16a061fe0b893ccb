"""X-Forwarded-For / X-Forwarded-Proto are believed from KONTOR_TRUSTED_PROXIES only.

The API runs as it does in production: granian serving the app factory, in a process of its own,
called over a real socket from 127.0.0.1. One server trusts that peer (it plays the reverse
proxy), the other trusts nobody (the default), so a client there cannot pick its address.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from interfaces.config import Settings, load_settings
from tests.api.conftest import USER_PASSWORD, Tenant
from tests.support.keys import secret_key_env

LIMIT = 3
STARTUP_SECONDS = 180  # a busy 2-core machine starts a granian worker slowly


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def api_server(
    settings: Settings, data_dir: Path, trusted: str, per_ip: int = LIMIT
) -> Iterator[httpx.Client]:
    """granian on a free port with these trusted proxies, a per-address limit of `per_ip`
    requests a minute and its own in-process cache (no counter shared with other tests)."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KONTOR_") and not key.startswith("GRANIAN_")
    }
    env |= {
        "KONTOR_DATABASE_URL": str(settings.database_url),
        "KONTOR_NATS_URL": str(settings.nats_url),
        "KONTOR_CLICKHOUSE_URL": f"chdb://{data_dir / 'clickhouse'}",
        "KONTOR_DATA_DIR": str(data_dir),
        "KONTOR_RATE_LIMIT_PER_IP": str(per_ip),
        "KONTOR_TRUSTED_PROXIES": trusted,
        **secret_key_env(settings),
    }
    command = [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        "interfaces.http.app:create_app_from_env",
    ]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).parents[2])
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # a bare connection: an HTTP probe would count against the limit
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the API server exited"
                assert time.monotonic() < deadline, "the API server did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def behind_proxy(settings: Settings, tmp_path_factory: Any) -> Iterator[httpx.Client]:
    directory = tmp_path_factory.mktemp("trusting")
    with api_server(settings, directory, "127.0.0.1/32, 10.0.0.0/8") as http:
        yield http


def forwarded(address: str, proto: str = "http") -> dict[str, str]:
    return {"X-Forwarded-For": address, "X-Forwarded-Proto": proto}


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    behind_proxy: httpx.Client,
) -> None:
    first = [behind_proxy.get("/health", headers=forwarded("198.51.100.7")) for _ in range(LIMIT)]
    over = behind_proxy.get("/health", headers=forwarded("198.51.100.7"))
    other = behind_proxy.get("/health", headers=forwarded("198.51.100.8"))

    assert [r.status_code for r in first] == [200] * LIMIT
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) > 0
    assert other.status_code == 200


def test_hsts_when_a_trusted_proxy_says_it_terminated_tls(behind_proxy: httpx.Client) -> None:
    tls = behind_proxy.get("/health", headers=forwarded("198.51.100.20", "https"))
    plain = behind_proxy.get("/health", headers=forwarded("198.51.100.21", "http"))

    assert tls.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in plain.headers


def sign_in(http: httpx.Client, tenant: Tenant, email: str, headers: dict[str, str]) -> Any:
    body = {"tenant_id": str(tenant.tenant_id), "email": email, "password": USER_PASSWORD}
    response = http.post("/v1/session", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def last_sign_in_address(tenant: Tenant) -> str:
    with tenant.container.datastore.transaction() as curs:
        curs.execute(
            "SELECT address FROM security_log WHERE tenant_id = %s AND action = 'session.started' "
            "ORDER BY id DESC LIMIT 1",
            (tenant.tenant_id,),
        )
        return str(curs.fetchone()["address"])


def test_sign_in_records_the_client_behind_a_chain_of_trusted_proxies(
    behind_proxy: httpx.Client, tenant: Tenant
) -> None:
    email = tenant.add_user("analyst")
    chain = forwarded("192.0.2.99, 203.0.113.50, 10.1.2.3", "https")

    response = sign_in(behind_proxy, tenant, email, chain)

    assert last_sign_in_address(tenant) == "203.0.113.50"  # the right-most untrusted hop
    assert "secure" in response.headers["set-cookie"].lower()


def test_an_untrusted_peers_forwarded_headers_change_nothing(
    settings: Settings, tmp_path: Path, tenant: Tenant
) -> None:
    """The peer (127.0.0.1) is no trusted proxy: its claims of another client and of TLS are
    ignored by the security log, the cookie, HSTS and the per-address limit alike."""
    email = tenant.add_user("analyst")
    with api_server(settings, tmp_path, "10.0.0.0/8") as exposed:
        signed_in = sign_in(exposed, tenant, email, forwarded("192.0.2.150", "https"))
        spoofed = exposed.get("/health", headers=forwarded("192.0.2.151", "https"))
        rest = [
            exposed.get("/health", headers=forwarded(f"192.0.2.{n}")).status_code
            for n in range(LIMIT - 1)
        ]

    assert last_sign_in_address(tenant) == "127.0.0.1"
    assert "secure" not in signed_in.headers["set-cookie"].lower()
    assert "strict-transport-security" not in spoofed.headers
    assert rest == [200] * (LIMIT - 2) + [429]  # counted as one client, whatever it claimed


def test_trusted_proxies_are_addresses_or_cidrs() -> None:
    settings = load_settings({"KONTOR_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,::1"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32", "::1/128")
    assert load_settings({}).trusted_proxies == ()
    with pytest.raises(ValueError, match=r"'proxy\.example\.com' is not an IP address or CIDR"):
        load_settings({"KONTOR_TRUSTED_PROXIES": "10.0.0.1,proxy.example.com"})
