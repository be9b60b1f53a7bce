"""SQL for trace filter conditions (:func:`trackd.service.trace_filters.parse_trace_filter`),
with MLflow 3.18's meaning on SQLite, PostgreSQL and MySQL/MariaDB.

Semantics (MLflow's SQL store; the cases are in docs/mlflow-captures/trace-filters.md):
- String comparisons are case-sensitive except ILIKE (:func:`trackd.store.runs_search.compare`);
  RLIKE is a regular expression search: Python's ``re`` on SQLite (a function trackd's SQLite
  connections register, as MLflow's do), ``~`` on PostgreSQL, a binary REGEXP on MySQL.
- Span conditions are all tested on ONE span of the trace (one EXISTS), in the trace's
  experiment. ``span.attributes.<a> op 'v'`` matches the span's JSON content against
  ``%"<a>"v%`` (LIKE/ILIKE), or a pattern anchored on the JSON-encoded value (RLIKE); ``=``
  therefore compares the whole content with that pattern and matches nothing.
- ``feedback.<n>`` / ``expectation.<n>``: a valid assessment of that type and name whose value
  compares: ``=``/``!=`` against the JSON value or its JSON-encoded string (``'true'``,
  ``'0.9'``, ``'friendly'`` all work), ordering comparators against numeric values only. An
  assessment made for a session (metadata ``mlflow.trace.session``) counts for every trace of
  that session in the searched experiments.
- ``issue.id = 'x'``: the trace has an issue assessment named ``x``.
- Metadata MLflow keeps in columns is read there: session in ``session_id``, token usage and
  cost (JSON) in their columns; the trace name tag in ``trace_name``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, true

from trackd.entities.traces import COST_COLUMNS, TOKEN_COLUMNS
from trackd.service.trace_filters import (
    ANALYTICS_METADATA,
    LINKED_PROMPTS_TAG,
    SESSION_METADATA,
    SOURCE_RUN_METADATA,
    TRACE_NAME_TAG,
    TraceCondition,
)
from trackd.store.runs_search import compare
from trackd.store.tables import entity_associations, trace_info, trace_request_metadata, trace_tags

_T = trace_info.c
_spans = sa.table("spans", *(sa.column(c) for c in (
    "trace_id", "experiment_id", "name", "type", "status", "content", "start_time_unix_nano")))
_assessments = sa.table("assessments", *(sa.column(c) for c in (
    "trace_id", "assessment_type", "name", "value", "valid", "aggregate_value",
    "is_numeric_value", "assessment_metadata")))
_S, _A = _spans.c, _assessments.c
_COLUMNS = {
    "status": _T.status,
    "request_id": _T.request_id,
    "client_request_id": _T.client_request_id,
    "timestamp_ms": _T.timestamp_ms,
    "execution_time_ms": _T.execution_time_ms,
}
# MLflow's margin for clocks: spans that start this long before a trace's timestamp bound are
# still looked at.
_SPAN_TIME_TOLERANCE_MS = 10_000


def text_compare(column: Any, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    """:func:`compare`, plus RLIKE."""
    if op != "RLIKE":
        return compare(column, op, value, dialect)
    if dialect == "postgresql":
        return column.op("~")(value)  # type: ignore[no-any-return]
    if dialect in ("mysql", "mariadb"):
        return func.binary(column).op("REGEXP")(func.binary(value))  # type: ignore[no-any-return]
    return column.op("REGEXP")(value)  # type: ignore[no-any-return]


def _keyed(table: Any, c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    """A tag or metadata condition: the key is present (and its value compares)."""
    k = table.c
    present = [k.request_id == _T.request_id, compare(k.key, "=", c.key, dialect)]
    if c.op == "IS NULL":
        return not_(exists().where(*present))
    if c.op == "IS NOT NULL":
        return exists().where(*present)
    return exists().where(*present, text_compare(k.value, c.op, c.value, dialect))


def _column(column: Any, c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    if c.op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    if c.op == "IS NOT NULL":
        return column.is_not(None)  # type: ignore[no-any-return]
    return text_compare(column, c.op, c.value, dialect)


def _linked(destination_type: str, value: Any) -> ColumnElement[bool]:
    e = entity_associations.c
    return exists().where(e.source_type == "trace", e.source_id == _T.request_id,
                          e.destination_type == destination_type, e.destination_id == value)


def _attribute(c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    if c.key == "end_time_ms":
        column: Any = _T.timestamp_ms + func.coalesce(_T.execution_time_ms, 0)
    else:
        column = _COLUMNS[c.key]
    return text_compare(column, c.op, c.value, dialect)


def _tag(c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    if c.key == TRACE_NAME_TAG:  # kept in a column, as MLflow does
        return _column(_T.trace_name, c, dialect)
    if c.key == LINKED_PROMPTS_TAG:  # prompt = "name/version": link-prompts associations
        return _linked("prompt_version", c.value)
    return _keyed(trace_tags, c, dialect)


def _metadata(c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    if c.key == SESSION_METADATA:
        return _column(_T.session_id, c, dialect)
    if c.key in ANALYTICS_METADATA:
        return _analytics(c)
    if c.key == SOURCE_RUN_METADATA and c.op == "=":
        # Traced inside the run, or linked to it by link-to-run; other comparators read the
        # metadata only, as in MLflow.
        return or_(_keyed(trace_request_metadata, c, dialect), _linked("run", c.value))
    return _keyed(trace_request_metadata, c, dialect)


def _token_count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number) if -(2**63) <= number < 2**63 else None


def _cost(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _analytics(c: TraceCondition) -> ColumnElement[bool]:
    """Token usage / cost metadata, held as columns: presence, or equality with exactly the
    JSON MLflow would show for them."""
    tokens = c.key == ANALYTICS_METADATA[0]
    names = TOKEN_COLUMNS if tokens else COST_COLUMNS
    columns = {item: _T[col] for item, col in names.items()}
    present = or_(*(col.is_not(None) for col in columns.values()))
    if c.op in ("IS NULL", "IS NOT NULL"):
        return not_(present) if c.op == "IS NULL" else present
    try:
        parsed = json.loads(str(c.value))
    except ValueError:
        parsed = None
    convert = _token_count if tokens else _cost
    wanted: dict[str, Any] = {}
    if isinstance(parsed, dict) and set(parsed) <= set(columns):
        wanted = {k: v for k in columns if (v := convert(parsed.get(k))) is not None}
    matches: ColumnElement[bool] = sa.false()
    if wanted and c.value == json.dumps(wanted):
        matches = and_(*(columns[k] == wanted[k] if k in wanted else columns[k].is_(None)
                         for k in columns))
    return matches if c.op == "=" else and_(present, not_(matches))


def _span_attribute(name: str, c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    value = str(c.value) if not isinstance(c.value, tuple) else c.value
    if c.op == "RLIKE" and isinstance(value, str):
        # Values are stored JSON-encoded inside the JSON content: "<a>": "\"<value>\"".
        start, end = '"\\\\"', ""
        if value.startswith("^"):
            value = value[1:]
        else:
            start += ".*"
        if value.endswith("$"):
            value, end = value[:-1], '\\\\"'
        return text_compare(_S.content, "RLIKE", f'"{name}": {start}{value}{end}', dialect)
    if isinstance(value, tuple):
        # MLflow builds the pattern from the list's text and fails in SQL; trackd compares the
        # content with that one pattern instead (never equal).
        pattern: Any = (f'%"{name}"{value}%',)
    else:
        pattern = f'%"{name}"{value}%'
    return text_compare(_S.content, c.op, pattern, dialect)


def _span(c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    if c.key.startswith("attributes."):
        return _span_attribute(c.key[len("attributes."):], c, dialect)
    return text_compare(_S[c.key], c.op, c.value, dialect)


def spans_condition(conditions: Sequence[TraceCondition], dialect: str,
                    time_floor_ms: int | float | None) -> ColumnElement[bool]:
    """All span conditions, met by one span of the trace."""
    where = [_S.trace_id == _T.request_id, _S.experiment_id == _T.experiment_id]
    if time_floor_ms is not None:
        floor_ns = int((time_floor_ms - _SPAN_TIME_TOLERANCE_MS) * 1_000_000)
        where.append(_S.start_time_unix_nano >= floor_ns)
    return exists().where(*where, *(_span(c, dialect) for c in conditions))


def _assessment_value(c: TraceCondition, dialect: str) -> ColumnElement[bool]:
    if c.op in ("<", "<=", ">", ">="):
        return and_(_A.is_numeric_value == true(),
                    compare(_A.aggregate_value, c.op, c.value, dialect))
    if c.op in ("=", "!="):
        # Values are JSON: false, 5 and "yes" are stored as false, 5 and "\"yes\"".
        same = or_(compare(_A.value, "=", c.value, dialect),
                   compare(_A.value, "=", json.dumps(c.value), dialect))
        return same if c.op == "=" else not_(same)
    return text_compare(_A.value, c.op, c.value, dialect)


def _assessment(c: TraceCondition, dialect: str,
                experiment_ids: Sequence[int]) -> ColumnElement[bool]:
    match = [_A.assessment_type == c.entity, _A.name == c.key, _A.valid == true()]
    if c.op not in ("IS NULL", "IS NOT NULL"):
        match.append(_assessment_value(c, dialect))
    direct = exists().where(_A.trace_id == _T.request_id, *match)
    # A session-scoped assessment (made for the session, logged on one of its traces) holds
    # for every trace of that session in the searched experiments.
    sibling = trace_info.alias("session_trace")
    st = sibling.c
    for_session = and_(_T.session_id.is_not(None), exists(
        select(st.request_id).join(_assessments, _A.trace_id == st.request_id).where(
            st.session_id == _T.session_id, st.experiment_id.in_(list(experiment_ids)),
            _A.assessment_metadata.is_not(None),
            _A.assessment_metadata.contains(f'"{SESSION_METADATA}":'), *match)))
    if c.op == "IS NULL":
        return and_(not_(direct), not_(for_session))
    return or_(direct, for_session)


def _issue(c: TraceCondition) -> ColumnElement[bool]:
    return exists().where(_A.trace_id == _T.request_id, _A.assessment_type == "issue",
                          _A.name == c.value)


def conditions(parsed: Sequence[TraceCondition], dialect: str, experiment_ids: Sequence[int],
               time_floor_ms: int | float | None) -> list[ColumnElement[bool]]:
    """WHERE terms over ``trace_info`` for a parsed trace filter."""
    out: list[ColumnElement[bool]] = []
    span_conditions = []
    for c in parsed:
        if c.entity == "span":
            span_conditions.append(c)
        elif c.entity == "attribute":
            out.append(_attribute(c, dialect))
        elif c.entity == "tag":
            out.append(_tag(c, dialect))
        elif c.entity == "metadata":
            out.append(_metadata(c, dialect))
        elif c.entity == "issue":
            out.append(_issue(c))
        else:
            out.append(_assessment(c, dialect, experiment_ids))
    if span_conditions:
        out.append(spans_condition(span_conditions, dialect, time_floor_ms))
    return out
