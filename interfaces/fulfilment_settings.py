"""Settings of the fulfilment slice, from the environment (all optional)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.carriers.ratecard import BOXES, RATE_CARDS


@dataclass(frozen=True, slots=True)
class FulfilmentSettings:
    rate_cards: Path = RATE_CARDS
    box_catalogue: Path = BOXES
    return_window: timedelta = timedelta(days=30)
    expiry_interval_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FulfilmentSettings:
        """KONTOR_RATE_CARDS and KONTOR_BOX_CATALOGUE (JSON files), KONTOR_RETURN_WINDOW_DAYS,
        KONTOR_EXPIRY_INTERVAL_SECONDS (0 turns the expiry worker of `kontor serve` off)."""
        env = os.environ if environ is None else environ
        return cls(
            rate_cards=Path(env.get("KONTOR_RATE_CARDS") or RATE_CARDS),
            box_catalogue=Path(env.get("KONTOR_BOX_CATALOGUE") or BOXES),
            return_window=timedelta(days=int(env.get("KONTOR_RETURN_WINDOW_DAYS") or 30)),
            expiry_interval_seconds=float(env.get("KONTOR_EXPIRY_INTERVAL_SECONDS") or 60),
        )
