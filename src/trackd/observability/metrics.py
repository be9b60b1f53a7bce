"""Prometheus metrics of one trackd process, on a registry of its own.

Each app gets its own ``CollectorRegistry`` (no process globals: several apps live side by side
in tests). Request counters are labelled by route *template* (``/api/2.0/mlflow/runs/get``,
``.../logged-models/{model_id}``), never by the raw path, so the series count stays bounded.
With ``--workers N`` every worker keeps its own numbers; see docs/operations.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from trackd.api.router import Route
from trackd.store.database import Database

# Latency buckets sized for an API whose typical call takes a few milliseconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_FIXED = ("/health", "/ready", "/metrics", "/version")


class RouteNames:
    """Raw path (static prefix removed) -> the route template it matched, for labels."""

    def __init__(self, routes: list[Route]) -> None:
        self._exact: dict[str, str] = {p: p for p in _FIXED}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for route in routes:
            if "{" in route.path:
                pattern = re.sub(r"\\\{(\w+)(:path)?\\\}",
                                 lambda m: ".+" if m.group(2) else "[^/]+", re.escape(route.path))
                self._patterns.append((re.compile(f"^{pattern}$"), route.path))
            else:
                self._exact[route.path] = route.path
        self._patterns.sort(key=lambda item: -len(item[1].split("{")[0]))

    def name(self, path: str) -> str:
        found = self._exact.get(path)
        if found is not None:
            return found
        for pattern, template in self._patterns:
            if pattern.match(path):
                return template
        if path.startswith(("/api/", "/ajax-api/")):
            return "unmatched_api"
        return "other"


class PoolCollector(Collector):
    """Connection-pool gauges, read from SQLAlchemy's pool at scrape time (zero request cost)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engines = {"writer": self.db.engine}
        reader = getattr(self.db, "_reader", None)
        if reader is not None and reader is not self.db.engine:
            engines["reader"] = reader
        families = {
            "size": GaugeMetricFamily("trackd_db_pool_size", "Configured pool size",
                                      labels=["engine"]),
            "checkedout": GaugeMetricFamily("trackd_db_pool_checked_out",
                                            "Connections in use", labels=["engine"]),
            "checkedin": GaugeMetricFamily("trackd_db_pool_checked_in",
                                           "Idle connections in the pool", labels=["engine"]),
            "overflow": GaugeMetricFamily("trackd_db_pool_overflow",
                                          "Connections opened beyond the pool size",
                                          labels=["engine"]),
        }
        for label, engine in engines.items():
            pool = engine.pool
            for attr, family in families.items():
                reading = getattr(pool, attr, None)
                if callable(reading):
                    family.add_metric([label], float(reading()))
        yield from families.values()


class Metrics:
    def __init__(self, db: Database, routes: list[Route]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.routes = RouteNames(routes)
        self.requests = Counter("trackd_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("trackd_http_request_duration_seconds",
                                 "Time from request to the end of the answer",
                                 ["method", "route"], buckets=_BUCKETS, registry=self.registry)
        self.metric_points = Counter("trackd_metric_points_ingested",
                                     "Metric points acknowledged by log-metric and log-batch",
                                     registry=self.registry)
        self.artifact_bytes = Counter("trackd_artifact_bytes",
                                      "Artifact bytes moved through the artifact proxy",
                                      ["direction"], registry=self.registry)
        self.webhook_deliveries = Counter(
            "trackd_webhook_deliveries",
            "Webhook deliveries by event and outcome (delivered: 2xx/3xx, failed: 4xx/5xx "
            "after retries, error: no answer, dropped, secret_unreadable)",
            ["event", "outcome"], registry=self.registry)
        self.registry.register(PoolCollector(db))
        # (method, route, status) -> its request counter and latency histogram. A labelled
        # child costs a lock, a tuple and a dict lookup in prometheus_client on every call;
        # the set of keys is bounded (routes are templates, methods and statuses few).
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def request_done(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(method, route, str(status)),
                        self.latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)
