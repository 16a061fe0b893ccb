"""Prometheus metrics: how far every projection, the relay and the webhook fan-out lag."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Controller, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from application.access import Permission
from interfaces.bootstrap import Container
from projections.runner import all_statuses


class LagCollector(Collector):
    """Reads the positions on every scrape: nothing to keep up to date between scrapes."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[Metric]:
        position = GaugeMetricFamily(
            "kontor_follower_position", "Last event position applied", labels=["follower"]
        )
        lag = GaugeMetricFamily(
            "kontor_follower_lag_events", "Events not yet applied", labels=["follower"]
        )
        seconds = GaugeMetricFamily(
            "kontor_follower_lag_seconds",
            "Age of the oldest event not yet applied",
            labels=["follower"],
        )
        for status in all_statuses(self.container.datastore):
            position.add_metric([status.name], status.position)
            lag.add_metric([status.name], status.lag)
            seconds.add_metric([status.name], status.lag_seconds)
        yield from (position, lag, seconds)


class MetricsController(Controller):
    path = ""
    tags = ["health"]

    @get("/metrics", sync_to_thread=True, permission=Permission.PUBLIC)
    def metrics(self, container: Container) -> Response[bytes]:
        """Prometheus text format: position, lag in events and lag in seconds of every
        projection, the NATS relay and the webhook fan-out (no auth, like /ready)."""
        registry = CollectorRegistry()
        registry.register(LagCollector(container))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
