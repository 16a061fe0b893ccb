"""Daily forecasts: Holt-Winters (statsmodels) with weekly seasonality and a damped trend,
prediction intervals from simulated futures, and a backtest on the most recent days."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing  # type: ignore[import-untyped]

SEASON = 7
MIN_SEASONS = 3
SIMULATIONS = 400


class NotEnoughHistory(ValueError):
    pass


@dataclass(frozen=True)
class Forecast:
    mean: list[float]
    lower: list[float]
    upper: list[float]
    level: float
    backtest_days: int
    backtest_mape: float | None  # mean absolute percentage error, in %


def _fit(history: np.ndarray) -> object:
    model = ExponentialSmoothing(
        history,
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=SEASON,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():  # convergence chatter on short, flat series
        warnings.simplefilter("ignore")
        return model.fit(use_brute=False)


def mape(actual: Sequence[float], predicted: Sequence[float]) -> float | None:
    """In %, over the days with a non-zero actual value; None if there are none."""
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a != 0]
    if not pairs:
        return None
    return 100 * sum(abs(a - p) / abs(a) for a, p in pairs) / len(pairs)


def forecast(
    history: Sequence[float], horizon: int, *, level: float = 0.9, seed: int = 7
) -> Forecast:
    """Forecasts `horizon` days after `history` (one value per day, oldest first). The backtest
    refits without the last min(horizon, 28) days and scores the forecast of those days."""
    series = np.asarray(history, dtype=float)
    held_out = max(SEASON, min(horizon, 28))
    if len(series) < SEASON * MIN_SEASONS + held_out:
        raise NotEnoughHistory(
            f"a forecast needs at least {SEASON * MIN_SEASONS + held_out} days of history, "
            f"there are {len(series)}"
        )
    trial = _fit(series[:-held_out])
    predicted = np.clip(trial.forecast(held_out), 0, None)  # type: ignore[attr-defined]
    error = mape(series[-held_out:].tolist(), predicted.tolist())
    fitted = _fit(series)
    mean = np.clip(fitted.forecast(horizon), 0, None)  # type: ignore[attr-defined]
    paths = fitted.simulate(  # type: ignore[attr-defined]
        horizon, repetitions=SIMULATIONS, error="add", anchor="end",
        rng=np.random.default_rng(seed),
    )  # fmt: skip
    tail = (1 - level) / 2 * 100
    lower = np.clip(np.percentile(paths, tail, axis=1), 0, None)
    upper = np.clip(np.percentile(paths, 100 - tail, axis=1), 0, None)
    return Forecast(
        mean=[round(float(v), 2) for v in mean],
        lower=[round(float(v), 2) for v in lower],
        upper=[round(float(v), 2) for v in upper],
        level=level,
        backtest_days=held_out,
        backtest_mape=None if error is None else round(error, 2),
    )
