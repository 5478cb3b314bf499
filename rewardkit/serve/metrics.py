"""Prometheus metrics of one server (its own registry, so several apps never collide).

>>> metrics = Metrics()
>>> metrics.observe("math", "openrlhf", 200, 0.01, ["ok", "wrong_answer"])
>>> text = metrics.render({"math": 3}).decode()
>>> 'rewardkit_requests_total{protocol="openrlhf",route="math",status="200"} 1.0' in text
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import (
    Counter as PromCounter,
)

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """Requests by route, protocol and status; latency; reasons; queue depth."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = PromCounter(
            "rewardkit_requests",
            "Requests answered",
            ["route", "protocol", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rewardkit_request_seconds",
            "Time to answer a request",
            ["route", "protocol"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.reasons = PromCounter(
            "rewardkit_reasons",
            "Scored samples by reason",
            ["route", "reason"],
            registry=self.registry,
        )
        self.samples = PromCounter(
            "rewardkit_samples", "Samples scored", ["route"], registry=self.registry
        )
        self.queue = Gauge(
            "rewardkit_queue_depth",
            "Samples waiting or being scored",
            ["route"],
            registry=self.registry,
        )

    def observe(
        self, route: str, protocol: str, status: int, seconds: float, reasons: Iterable[str] = ()
    ) -> None:
        """Count one answered request and the reasons of its samples."""
        self.requests.labels(route, protocol, str(status)).inc()
        self.latency.labels(route, protocol).observe(seconds)
        counts = Counter(reasons)
        for reason, n in counts.items():
            self.reasons.labels(route, reason).inc(n)
        if counts:
            self.samples.labels(route).inc(sum(counts.values()))

    def render(self, queue_depths: Mapping[str, int]) -> bytes:
        """The Prometheus text exposition, queue depths read now."""
        for route, depth in queue_depths.items():
            self.queue.labels(route).set(depth)
        return generate_latest(self.registry)
