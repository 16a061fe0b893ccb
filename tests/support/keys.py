"""The keyring of this test process, for the processes a test starts: every process that reads
events with personal data must share it (ADR 0035), as production processes share
KONTOR_SECRET_KEY."""

from __future__ import annotations

import base64

from adapters.keyring import load_keyring
from interfaces.config import Settings


def secret_key_env(settings: Settings) -> dict[str, str]:
    keyring = load_keyring(settings.secret_key, settings.data_dir)
    entries = (
        f"{key_id}:{base64.urlsafe_b64encode(key).decode().rstrip('=')}"
        for key_id, key in keyring.keys.items()
    )
    return {"KONTOR_SECRET_KEY": ",".join(entries)}
