"""Shapes of the trace metrics API (``traces/metrics``) and of filter correlation.

Which metric a view offers, with which aggregations and dimensions, is MLflow 3.18's contract
(captured in docs/mlflow-captures/trace-metrics.md); the UI's GenAI overview charts ask only for
these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

VIEW_TYPES = ("TRACES", "SPANS", "ASSESSMENTS")  # proto numbers 1, 2, 3
AGGREGATION_TYPES = ("COUNT", "SUM", "AVG", "PERCENTILE", "MIN", "MAX")  # proto numbers 1..6
TIME_BUCKET = "time_bucket"
DEFAULT_MAX_RESULTS = 1000

_STATS = frozenset({"AVG", "MIN", "MAX", "PERCENTILE"})
_TOTALS = _STATS | {"SUM"}
_COUNT = frozenset({"COUNT"})


@dataclass(frozen=True, slots=True)
class MetricSpec:
    aggregations: frozenset[str]
    dimensions: tuple[str, ...]


_TOKENS = MetricSpec(_TOTALS, ("trace_name",))
_COST = MetricSpec(_TOTALS, ("span_model_name", "span_model_provider"))

# view type -> metric name -> what may be asked of it (dict order = MLflow's listing order)
METRICS: dict[str, dict[str, MetricSpec]] = {
    "TRACES": {
        "trace_count": MetricSpec(_COUNT, ("trace_name", "trace_status")),
        "session_count": MetricSpec(_COUNT, ()),
        "latency": MetricSpec(_STATS, ("trace_name",)),
        "input_tokens": _TOKENS,
        "output_tokens": _TOKENS,
        "total_tokens": _TOKENS,
        "cache_read_input_tokens": _TOKENS,
        "cache_creation_input_tokens": _TOKENS,
    },
    "SPANS": {
        "span_count": MetricSpec(_COUNT, ("span_name", "span_type", "span_status",
                                          "span_model_name", "span_model_provider")),
        "latency": MetricSpec(_STATS, ("span_name", "span_status")),
        "input_cost": _COST,
        "output_cost": _COST,
        "total_cost": _COST,
    },
    "ASSESSMENTS": {
        "assessment_count": MetricSpec(_COUNT, ("assessment_name", "assessment_value")),
        "assessment_value": MetricSpec(_STATS, ("assessment_name",)),
    },
}


@dataclass(frozen=True, slots=True)
class Aggregation:
    kind: str  # one of AGGREGATION_TYPES
    percentile: float | None = None  # 0..100, PERCENTILE only

    @property
    def label(self) -> str:
        """The key of this aggregation's value in a data point (``P50.0`` for a median: MLflow
        prints the percentile as the double the proto carries)."""
        return f"P{self.percentile!r}" if self.kind == "PERCENTILE" else self.kind


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """One ``<view>.<entity>[.<key>] = '<value>'`` clause of a metrics query."""

    view: str  # trace, span, assessment
    entity: str
    key: str | None
    value: str


@dataclass(frozen=True, slots=True)
class MetricsQuery:
    experiment_ids: tuple[int, ...]
    view_type: str
    metric_name: str
    aggregations: tuple[Aggregation, ...]
    dimensions: tuple[str, ...] = ()
    filters: tuple[MetricFilter, ...] = ()
    interval_seconds: int | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    max_results: int = DEFAULT_MAX_RESULTS


@dataclass(slots=True)
class DataPoint:
    metric_name: str
    dimensions: dict[str, str] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric_name": self.metric_name}
        if self.dimensions:
            out["dimensions"] = self.dimensions
        if self.values:
            out["values"] = self.values
        return out


@dataclass(frozen=True, slots=True)
class Correlation:
    total_count: int
    filter1_count: int
    filter2_count: int
    joint_count: int
    npmi: float
    npmi_smoothed: float

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # Undefined NPMI (NaN) is left out, as mlflow server's answer does.
        if not math.isnan(self.npmi):
            out["npmi"] = self.npmi
        if not math.isnan(self.npmi_smoothed):
            out["npmi_smoothed"] = self.npmi_smoothed
        out.update(filter1_count=self.filter1_count, filter2_count=self.filter2_count,
                   joint_count=self.joint_count, total_count=self.total_count)
        return out
