"""What ``/metrics`` exposes (Prometheus text): requests, latency, tokens and errors by route.

prometheus_client because it is the reference implementation of the exposition format; each app
gets its own ``CollectorRegistry`` so two apps in one process (tests) do not share counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

# seconds: a base-route answer takes ~0.3 s, an agentic one a few seconds on 2 cores
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter("ragft_requests", "chat completion requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("ragft_request_seconds", "chat completion latency", ["route"], buckets=BUCKETS,
                                 registry=self.registry)
        self.tokens = Counter("ragft_completion_tokens", "generated tokens", ["route"], registry=self.registry)
        self.errors = Counter("ragft_errors", "failed requests", ["route", "code"], registry=self.registry)
        self.cancelled = Counter("ragft_cancelled", "streams stopped because the client went away", ["route"],
                                 registry=self.registry)

    def text(self) -> bytes:
        return generate_latest(self.registry)
