"""An API worker, made by the server's app factory, keeps what it built at start-up out of the
cycle collector's full collections (gc.freeze): they would walk it all, with requests waiting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from interfaces.config import Settings
from tests.support.keys import secret_key_env

WORKER = """
import gc, json
from interfaces.http.app import create_app_from_env
app = create_app_from_env()
print(json.dumps({"frozen": gc.get_freeze_count(), "walked": len(gc.get_objects())}))
"""


def test_a_worker_freezes_what_it_built_at_start_up(settings: Settings, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KONTOR_")}
    env |= {
        "KONTOR_DATABASE_URL": str(settings.database_url),
        "KONTOR_DATA_DIR": str(tmp_path),
        "KONTOR_CLICKHOUSE_URL": f"chdb://{tmp_path / 'clickhouse'}",
        **secret_key_env(settings),
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # The modules, classes and the app: far more than a collection walks afterwards.
    assert counts["frozen"] > 100_000
    assert counts["walked"] < counts["frozen"] / 10
