"""``traces/metrics`` and ``traces/calculate-filter-correlation`` (MLflow 3 routes)."""

from __future__ import annotations

from typing import Any

from trackd.api._http import Fields
from trackd.api.router import Call
from trackd.entities.trace_metrics import (
    AGGREGATION_TYPES,
    DEFAULT_MAX_RESULTS,
    VIEW_TYPES,
    Aggregation,
    MetricsQuery,
)
from trackd.errors import invalid_parameter, missing_parameter
from trackd.service import validation as v
from trackd.service.trace_metrics import parse_metric_filter


def _required_list(f: Fields, name: str) -> list[str]:
    values = f.string_list(name)
    if not values:
        raise missing_parameter(name)
    return values


def _aggregation(item: dict[str, Any], i: int) -> Aggregation:
    kind = Fields(item, from_query=False).enum("aggregation_type", AGGREGATION_TYPES)
    if kind is None:
        raise missing_parameter(f"aggregations[{i}].aggregation_type")
    percentile = Fields(item, from_query=False).number("percentile_value")
    return Aggregation(kind, float(percentile) if percentile is not None else None)


async def query(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_ids = tuple(v.parse_experiment_id(e) for e in _required_list(f, "experiment_ids"))
    view_type = f.enum("view_type", VIEW_TYPES)
    if view_type is None:
        raise missing_parameter("view_type")
    metric_name = f.string("metric_name", required=True)
    if "aggregations" not in f:
        raise missing_parameter("aggregations")
    aggregations = tuple(_aggregation(a, i) for i, a in enumerate(f.objects("aggregations")))
    max_results = f.integer("max_results", default=DEFAULT_MAX_RESULTS)
    if not isinstance(max_results, int):
        raise invalid_parameter("max_results must be an integer")
    q = MetricsQuery(
        experiment_ids=experiment_ids,
        view_type=view_type,
        metric_name=metric_name,
        aggregations=aggregations,
        dimensions=tuple(f.string_list("dimensions")),
        filters=tuple(parse_metric_filter(s, view_type) for s in f.string_list("filters")),
        interval_seconds=f.integer("time_interval_seconds"),
        start_time_ms=f.integer("start_time_ms"),
        end_time_ms=f.integer("end_time_ms"),
        max_results=max_results,
    )
    f.string("page_token")  # accepted and, as in mlflow server 3.18, not used: no paging yet
    points = await call.services.trace_metrics.query(q)
    return {"data_points": [p.to_json() for p in points]} if points else {}


async def correlate(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_ids = _required_list(f, "experiment_ids")
    first = f.string("filter_string1", required=True)
    second = f.string("filter_string2", required=True)
    base = f.string("base_filter")
    result = await call.services.trace_metrics.correlate(experiment_ids, first, second,
                                                         base or None)
    return result.to_json()
