"""Runtime configuration, read from environment variables and an optional `.env` file."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from dotenv import dotenv_values


@dataclass(frozen=True, slots=True)
class Settings:
    """Where Kontor's servers are. A `None` URL means: start the embedded default."""

    database_url: str | None
    clickhouse_url: str | None
    nats_url: str | None
    redis_url: str | None
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    cache_namespace: str = "kontor"
    """Prefix of every Redis key (tests use one per run)."""
    rate_limit_per_key: int = 1200
    """Requests per window for one API key or session (ADR 0033)."""
    rate_limit_per_ip: int = 3000
    """Requests per window from one client address, signed in or not."""
    rate_limit_window: int = 60
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the API from a browser; empty (the default) turns CORS off."""
    secret_key: str | None = None
    """KONTOR_SECRET_KEY: the keyring that encrypts secrets at rest (ADR 0034)."""
    trusted_proxies: tuple[str, ...] = ()
    """KONTOR_TRUSTED_PROXIES: addresses or CIDRs whose X-Forwarded-For/-Proto are believed
    (ADR 0038); empty: trust nobody, the socket's peer is the client."""

    def with_urls(self, **urls: str | None) -> Settings:
        return replace(self, **urls)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Environment variables win over `.env`; unset or empty URLs select the embedded default."""
    env: dict[str, str] = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    env.update(os.environ if environ is None else environ)

    def url(name: str) -> str | None:
        return env.get(name) or None

    return Settings(
        database_url=url("KONTOR_DATABASE_URL"),
        clickhouse_url=url("KONTOR_CLICKHOUSE_URL"),
        nats_url=url("KONTOR_NATS_URL"),
        redis_url=url("KONTOR_REDIS_URL"),
        data_dir=Path(env.get("KONTOR_DATA_DIR") or ".kontor").resolve(),
        host=env.get("KONTOR_HOST") or "127.0.0.1",
        port=int(env.get("KONTOR_PORT") or 8000),
        rate_limit_per_key=int(env.get("KONTOR_RATE_LIMIT_PER_KEY") or 1200),
        rate_limit_per_ip=int(env.get("KONTOR_RATE_LIMIT_PER_IP") or 3000),
        rate_limit_window=int(env.get("KONTOR_RATE_LIMIT_WINDOW") or 60),
        cors_origins=tuple(
            origin.strip()
            for origin in (env.get("KONTOR_CORS_ORIGINS") or "").split(",")
            if origin.strip()
        ),
        secret_key=env.get("KONTOR_SECRET_KEY") or None,
        trusted_proxies=_networks(env.get("KONTOR_TRUSTED_PROXIES") or ""),
    )


def _networks(value: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDRs, each checked (a typo must not trust nobody silently,
    nor everybody)."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(
                f"KONTOR_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR"
            ) from None
    return tuple(found)
