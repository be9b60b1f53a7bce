"""Trace metrics (``traces/metrics``) and filter correlation: the rules.

A metrics query names a view (traces, spans or assessments), one of its metrics, aggregations
and dimensions that metric allows, optional time buckets and range, and filters. The filters are
MLflow's metrics filter language, one ``<view>.<entity>[.<key>] = '<value>'`` clause per string;
it shares the lexer of the search filters (trackd.service.filter_syntax). Correlation filters
are ordinary trace search filters, parsed by trackd.service.filters as ``traces/search`` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import Connection

from trackd.entities.trace_metrics import (
    METRICS,
    Correlation,
    DataPoint,
    MetricFilter,
    MetricsQuery,
)
from trackd.errors import invalid_parameter
from trackd.service import validation as v
from trackd.service.filter_syntax import split_clauses
from trackd.service.trace_filters import parse_trace_filter
from trackd.store import trace_metrics as store
from trackd.store.database import Database

# entity -> whether it takes a key, per filter view (MLflow's table)
_FILTER_ENTITIES: dict[str, dict[str, bool]] = {
    "trace": {"status": False, "tag": True, "metadata": True},
    "span": {"name": False, "status": False, "type": False},
    "assessment": {"name": False, "type": False},
}
_FILTER_VIEW_OF = {"span": "SPANS", "assessment": "ASSESSMENTS"}
# Kept in trace_info columns as JSON-derived numbers, not as metadata rows: MLflow compares
# them with JSON semantics that trackd does not reproduce yet.
_UNSUPPORTED_METADATA = frozenset({"mlflow.trace.tokenUsage", "mlflow.trace.cost"})
_MAX_INTERVAL_SECONDS = (2**63 - 1) // 1_000_000_000
_SMOOTHING = 0.5  # Jeffreys prior, added to each cell of the 2x2 table for npmi_smoothed


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def parse_metric_filter(text: str, view_type: str) -> MetricFilter:
    raws = split_clauses(text, quote_invalid=False)
    if len(raws) != 1:
        raise invalid_parameter(f"Invalid filter: '{text}'. Expected one filter clause.")
    raw = raws[0]
    parts = raw.lhs.text.split(".", 2)
    if len(parts) < 2:
        raise invalid_parameter(
            f"Invalid identifier {raw.lhs.text!r}. Columns should be specified as "
            "'trace.<key>', 'span.<key>', 'assessment.<key>'."
        )
    view, entity = _unquote(parts[0]), parts[1].strip()
    key = _unquote(parts[2]) if len(parts) == 3 else None
    if view not in _FILTER_ENTITIES:
        raise invalid_parameter(
            f"Invalid view type '{view}'. Valid values are {list(_FILTER_ENTITIES)}")
    entities = _FILTER_ENTITIES[view]
    if entity not in entities:
        raise invalid_parameter(
            f"Invalid entity '{entity}' specified for view type '{view}'. "
            f"Valid entities are {list(entities)}"
        )
    if entities[entity] and key is None:
        raise invalid_parameter(
            f"Filtering by {entity} requires a key, e.g. '{view}.{entity}.<key> = <value>'")
    if not entities[entity] and key is not None:
        raise invalid_parameter(
            f"Filtering by {entity} does not require a key, use '{view}.{entity}' instead")
    if raw.op != "=":
        raise invalid_parameter(f"Invalid comparator: '{raw.op}', only '=' operator is supported")
    rhs = raw.rhs
    if rhs is None or not (rhs.kind == "str" or (rhs.kind == "ident" and rhs.text[:1] == '"')):
        shown = rhs.text if rhs is not None else "NULL"
        raise invalid_parameter(
            f"Expected a quoted string value for {entity} value (e.g. 'my-value'). "
            f"Got value {shown}"
        )
    needed = _FILTER_VIEW_OF.get(view)
    if needed is not None and needed != view_type:
        raise invalid_parameter(
            f"Filtering by {view} is only supported for {needed} view type, got {view_type}")
    if view == "trace" and entity == "metadata" and key in _UNSUPPORTED_METADATA:
        raise invalid_parameter(f"Filtering trace metrics by metadata '{key}' is not supported "
                                "by this server.")
    return MetricFilter(view, entity, key, _unquote(rhs.text))


def _check_aggregations(query: MetricsQuery) -> None:
    specs = METRICS[query.view_type]
    if query.metric_name not in specs:
        raise invalid_parameter(
            f"metric_name must be one of {list(specs)}, got '{query.metric_name}'")
    spec = specs[query.metric_name]
    if not query.aggregations:
        raise invalid_parameter("aggregations must name at least one aggregation.")
    for agg in query.aggregations:
        if agg.kind == "PERCENTILE":
            if agg.percentile is None:
                raise invalid_parameter("percentile_value is required for PERCENTILE aggregation")
            if not 0 <= agg.percentile <= 100:
                raise invalid_parameter(
                    f"Percentile value must be between 0 and 100, got {agg.percentile}")
        elif agg.percentile is not None:
            raise invalid_parameter("percentile_value is only allowed for PERCENTILE "
                                    f"aggregation type, got {agg.kind}")
    bad = sorted({a.kind for a in query.aggregations} - spec.aggregations)
    if bad:
        raise invalid_parameter(f"Found invalid aggregation_type(s): {bad}. "
                                f"Supported aggregation types: {sorted(spec.aggregations)}")
    bad_dims = sorted(set(query.dimensions) - set(spec.dimensions))
    if bad_dims:
        raise invalid_parameter(f"Found invalid dimension(s): {bad_dims}. "
                                f"Supported dimensions: {sorted(spec.dimensions)}")


def check_query(query: MetricsQuery) -> None:
    _check_aggregations(query)
    if query.interval_seconds is not None and query.interval_seconds < 0:
        raise invalid_parameter(
            f"time_interval_seconds must be positive, got {query.interval_seconds}")
    if query.interval_seconds and query.interval_seconds > _MAX_INTERVAL_SECONDS:
        # span buckets are computed in nanoseconds, which must stay within 64 bits
        raise invalid_parameter(f"time_interval_seconds must be at most {_MAX_INTERVAL_SECONDS},"
                                f" got {query.interval_seconds}")
    if query.interval_seconds and (query.start_time_ms is None or query.end_time_ms is None):
        raise invalid_parameter(
            "start_time_ms and end_time_ms are required if time_interval_seconds is set")
    if query.max_results < 0:
        raise invalid_parameter(f"max_results must be at least 0, got {query.max_results}")


def npmi(n11: float, n10: float, n01: float, n00: float, smoothing: float) -> float:
    """Normalized pointwise mutual information of a 2x2 table: log(P(x,y) / P(x)P(y)) divided
    by -log P(x,y); 1 when the two events always occur together, NaN when undefined."""
    a, b, c, d = (n + smoothing for n in (n11, n10, n01, n00))
    total = a + b + c + d
    first, second = a + b, a + c
    if first <= 0 or second <= 0 or a <= 0:
        return math.nan
    if n10 == 0 and n01 == 0 and n00 == 0:
        return 1.0
    log_joint, log_total = math.log(a), math.log(total)
    pmi = (log_joint + log_total) - (math.log(first) + math.log(second))
    value = pmi / -(log_joint - log_total)
    return max(-1.0, min(1.0, value))


def correlation(total: int, first: int, second: int, joint: int) -> Correlation:
    n11, n10, n01 = joint, first - joint, second - joint
    n00 = total - first - second + joint
    if total <= 0 or first == 0 or second == 0 or min(n11, n10, n01, n00) < 0:
        return Correlation(total, first, second, joint, math.nan, math.nan)
    plain = -1.0 if joint == 0 else npmi(n11, n10, n01, n00, 0)
    return Correlation(total, first, second, joint, plain, npmi(n11, n10, n01, n00, _SMOOTHING))


class TraceMetricsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def query(self, query: MetricsQuery) -> list[DataPoint]:
        check_query(query)

        def work(conn: Connection) -> list[DataPoint]:
            return store.query_metrics(conn, query)

        return await self.db.read(work)

    async def correlate(self, experiment_ids: Sequence[str], filter1: str, filter2: str,
                        base_filter: str | None) -> Correlation:
        ids = [v.parse_experiment_id(e) for e in experiment_ids]
        first = parse_trace_filter(filter1)
        second = parse_trace_filter(filter2)
        base = parse_trace_filter(base_filter) if base_filter else ()

        def work(conn: Connection) -> tuple[int, int, int, int]:
            return store.correlation_counts(conn, ids, base, first, second)

        return correlation(*await self.db.read(work))
