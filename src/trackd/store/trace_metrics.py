"""Trace metrics SQL: one GROUP BY query over ``trace_info``, ``spans`` or ``assessments``.

Percentiles are computed in SQL on every database, the same way: an inner query numbers each
group's values in order (ROW_NUMBER and COUNT windows, which SQLite >= 3.25, PostgreSQL and
MySQL 8 / MariaDB 10.2 all have), and the outer aggregate interpolates linearly between the
values at positions floor and ceil of p*(n-1) (numpy's default method, as PostgreSQL's
percentile_cont and mlflow server on SQLite give). No rows are carried into Python.

Numbers in the SQL text: bucket widths are inlined integers (PostgreSQL must see the SELECT and
GROUP BY expressions as equal, which two bound parameters are not).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Float,
    String,
    and_,
    case,
    exists,
    func,
)

from trackd.entities.trace_metrics import (
    TIME_BUCKET,
    Aggregation,
    DataPoint,
    MetricFilter,
    MetricsQuery,
)
from trackd.service.trace_filters import TraceCondition, span_time_floor_ms
from trackd.store.tables import trace_info
from trackd.store.trace_conditions import conditions

_INT64_MAX = 2**63 - 1
_NS_PER_MS = 1_000_000

_spans = sa.table(
    "spans",
    sa.column("trace_id", String), sa.column("span_id", String), sa.column("name", String),
    sa.column("type", String), sa.column("status", String),
    sa.column("start_time_unix_nano", BigInteger), sa.column("end_time_unix_nano", BigInteger),
    sa.column("input_cost", Float), sa.column("output_cost", Float),
    sa.column("total_cost", Float), sa.column("model_name", String),
    sa.column("model_provider", String),
)
_assessments = sa.table(
    "assessments",
    sa.column("assessment_id", String), sa.column("trace_id", String),
    sa.column("experiment_id", sa.Integer), sa.column("name", String),
    sa.column("assessment_type", String), sa.column("value", String),
    sa.column("valid", sa.Boolean), sa.column("trace_timestamp_ms", BigInteger),
    sa.column("aggregate_value", Float),
)
_T, _S, _A = trace_info.c, _spans.c, _assessments.c

_DIMENSIONS: dict[str, Any] = {
    "trace_name": _T.trace_name, "trace_status": _T.status,
    "span_name": _S.name, "span_type": _S.type, "span_status": _S.status,
    "span_model_name": _S.model_name, "span_model_provider": _S.model_provider,
    "assessment_name": _A.name, "assessment_value": _A.value,
}
_SPAN_COSTS = {"input_cost": _S.input_cost, "output_cost": _S.output_cost,
               "total_cost": _S.total_cost}


def _measured(view: str, metric: str) -> Any:
    """The column a metric aggregates."""
    if view == "TRACES":
        if metric == "trace_count":
            return _T.request_id
        if metric == "session_count":
            return _T.session_id
        if metric == "latency":
            return _T.execution_time_ms
        return _T[metric]  # the token columns share the metric's name
    if view == "SPANS":
        if metric == "span_count":
            return _S.span_id
        if metric == "latency":  # whole milliseconds, rounded down
            return (_S.end_time_unix_nano - _S.start_time_unix_nano) // _NS_PER_MS
        return _SPAN_COSTS[metric]
    return _A.assessment_id if metric == "assessment_count" else _A.aggregate_value


def _trace_condition(f: MetricFilter, dialect: str) -> ColumnElement[bool]:
    """A ``trace.*`` filter over ``trace_info``: tags and metadata as trace search reads them
    (``mlflow.sourceRun`` also finds traces linked to the run later, as its run_id rule)."""
    if f.entity == "status":
        return _T.status == f.value
    return conditions([TraceCondition(f.entity, str(f.key), "=", f.value)], dialect, (), None)[0]


def _filter_condition(view: str, f: MetricFilter, dialect: str) -> ColumnElement[bool]:
    if f.view == "span":
        return {"name": _S.name, "status": _S.status, "type": _S.type}[f.entity] == f.value
    if f.view == "assessment":
        return (_A.name if f.entity == "name" else _A.assessment_type) == f.value
    cond = _trace_condition(f, dialect)
    if view == "ASSESSMENTS":  # the assessment's trace must match
        return exists().where(_T.request_id == _A.trace_id, cond)
    return cond


def _time_range(q: MetricsQuery) -> list[ColumnElement[bool]]:
    start, end = q.start_time_ms, q.end_time_ms
    if q.view_type == "SPANS" and q.metric_name in _SPAN_COSTS:
        # span costs fall in the range by the span's start, in nanoseconds
        out: list[ColumnElement[bool]] = []
        if start is not None:
            ns = start * _NS_PER_MS
            out.append(sa.false() if ns > _INT64_MAX
                       else _S.start_time_unix_nano >= max(ns, -_INT64_MAX))
        if end is not None:
            ns = (end + 1) * _NS_PER_MS
            if ns <= _INT64_MAX:
                out.append(_S.start_time_unix_nano < max(ns, -_INT64_MAX))
        return out
    column = _A.trace_timestamp_ms if q.view_type == "ASSESSMENTS" else _T.timestamp_ms
    out = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column <= end)
    return out


def _bucket(q: MetricsQuery) -> Any:
    width_ms = int(q.interval_seconds or 0) * 1000
    if q.view_type == "SPANS":
        width_ns = sa.literal_column(str(width_ms * _NS_PER_MS), BigInteger)
        return _S.start_time_unix_nano // width_ns * sa.literal_column(str(width_ms), BigInteger)
    column = _A.trace_timestamp_ms if q.view_type == "ASSESSMENTS" else _T.timestamp_ms
    width = sa.literal_column(str(width_ms), BigInteger)
    return column // width * width


def _base(q: MetricsQuery, dialect: str) -> tuple[Any, list[ColumnElement[bool]]]:
    """FROM clause and WHERE conditions (scope, filters, range, non-null value)."""
    ids = list(q.experiment_ids)
    if q.view_type == "ASSESSMENTS":
        source: Any = _assessments
        where = [_A.experiment_id.in_(ids), _A.valid == sa.true()]
    elif q.view_type == "SPANS":
        source = _spans.join(trace_info, _S.trace_id == _T.request_id)
        where = [_T.experiment_id.in_(ids)]
    else:
        source = trace_info
        where = [_T.experiment_id.in_(ids)]
    where += [_filter_condition(q.view_type, f, dialect) for f in q.filters]
    where += _time_range(q)
    where.append(_measured(q.view_type, q.metric_name).is_not(None))
    return source, where


def _plain(agg: Aggregation, column: Any, distinct: bool) -> Any:
    if agg.kind == "COUNT":
        return func.count(column.distinct() if distinct else column)
    if agg.kind == "SUM":
        return func.sum(column)
    if agg.kind == "AVG":
        # in floating point: MySQL averages integers as DECIMAL with only four decimals
        return func.avg(column * sa.literal(1.0, Float))
    return func.min(column) if agg.kind == "MIN" else func.max(column)


def _percentile(p: float, value: Any, rank: Any, size: Any) -> Any:
    """Linear interpolation between the values at floor and ceil of p*(n-1) (0-based)."""
    position = (size - 1) * sa.literal(p / 100, Float)
    index = rank - 1
    below = func.max(case((index <= position, value)))
    above = func.min(case((index >= position, value)))
    below_index = func.max(case((index <= position, index)))
    return below + (above - below) * (func.max(position) - below_index)


def _statement(q: MetricsQuery, dialect: str) -> tuple[Any, list[str]]:
    source, where = _base(q, dialect)
    groups: list[tuple[str, Any]] = []
    if q.interval_seconds:
        groups.append((TIME_BUCKET, _bucket(q)))
    groups += [(d, _DIMENSIONS[d]) for d in q.dimensions]
    where += [expr.is_not(None) for _, expr in groups]  # a null group is never shown
    measured = _measured(q.view_type, q.metric_name)
    distinct = q.metric_name == "session_count"
    labels = [name for name, _ in groups]
    if not any(a.kind == "PERCENTILE" for a in q.aggregations):
        cols = [expr.label(name) for name, expr in groups]
        cols += [_plain(a, measured, distinct).label(f"v{i}")
                 for i, a in enumerate(q.aggregations)]
        stmt = sa.select(*cols).select_from(source).where(and_(*where))
        exprs = [expr for _, expr in groups]
        if exprs:
            stmt = stmt.group_by(*exprs).order_by(*exprs)
        return stmt.limit(q.max_results), labels
    partition = [expr for _, expr in groups]
    inner = sa.select(
        *[expr.label(f"g{i}") for i, (_, expr) in enumerate(groups)],
        measured.label("val"),
        func.row_number().over(partition_by=partition or None, order_by=measured).label("rn"),
        func.count().over(partition_by=partition or None).label("n"),
    ).select_from(source).where(and_(*where)).subquery("ranked")
    keys = [inner.c[f"g{i}"] for i in range(len(groups))]
    cols = [k.label(name) for k, name in zip(keys, labels, strict=True)]
    for i, agg in enumerate(q.aggregations):
        if agg.kind == "PERCENTILE":
            expr = _percentile(float(agg.percentile or 0), inner.c.val, inner.c.rn, inner.c.n)
        else:
            expr = _plain(agg, inner.c.val, distinct)
        cols.append(expr.label(f"v{i}"))
    stmt = sa.select(*cols).select_from(inner)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    return stmt.limit(q.max_results), labels


def _bucket_time(ms: Any) -> str:
    return datetime.fromtimestamp(float(ms) / 1000, tz=UTC).isoformat()


def query_metrics(conn: Connection, q: MetricsQuery) -> list[DataPoint]:
    if not q.experiment_ids or q.max_results == 0:
        return []  # no experiment: nothing; max_results 0: mlflow's LIMIT 0
    stmt, labels = _statement(q, conn.dialect.name)
    points = []
    for row in conn.execute(stmt):
        dims = {name: row[i] for i, name in enumerate(labels)}
        if any(value is None for value in dims.values()):
            continue
        if TIME_BUCKET in dims:
            dims[TIME_BUCKET] = _bucket_time(dims[TIME_BUCKET])
        values = {agg.label: float(row[len(labels) + i])
                  for i, agg in enumerate(q.aggregations) if row[len(labels) + i] is not None}
        if values:
            points.append(DataPoint(q.metric_name, {k: str(v) for k, v in dims.items()}, values))
    return points


def correlation_counts(conn: Connection, experiment_ids: Sequence[int],
                       base: tuple[TraceCondition, ...], first: tuple[TraceCondition, ...],
                       second: tuple[TraceCondition, ...]) -> tuple[int, int, int, int]:
    """(traces in scope, matching the first filter, the second, both); scope = the experiments'
    traces matching ``base``."""
    if not experiment_ids:
        return 0, 0, 0, 0
    dialect = conn.dialect.name

    def where(parsed: tuple[TraceCondition, ...]) -> list[ColumnElement[bool]]:
        return conditions(parsed, dialect, experiment_ids, span_time_floor_ms(parsed))

    one = and_(sa.true(), *where(first))
    two = and_(sa.true(), *where(second))

    def tally(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    stmt = sa.select(func.count(), tally(one), tally(two), tally(and_(one, two))).where(
        _T.experiment_id.in_(list(experiment_ids)),
        *where(base))
    row = conn.execute(stmt).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])
