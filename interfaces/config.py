"""Runtime configuration, read from environment variables and an optional `.env` file."""

from __future__ import annotations

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
    )
