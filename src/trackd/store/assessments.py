"""The ``assessments`` table (SQL only): rows in, rows out, validity flags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from trackd.entities.assessments import Assessment, aggregate
from trackd.store.prepared import Prepared, one_of

_a = sa.table(
    "assessments",
    *(sa.column(c) for c in (
        "assessment_id", "trace_id", "name", "assessment_type", "value", "error",
        "created_timestamp", "last_updated_timestamp", "source_type", "source_id", "run_id",
        "span_id", "rationale", "overrides", "valid", "assessment_metadata", "experiment_id",
        "trace_timestamp_ms", "aggregate_value", "is_numeric_value")),
)
_C = _a.c
_READ = (_C.assessment_id, _C.trace_id, _C.name, _C.assessment_type, _C.value, _C.error,
         _C.created_timestamp, _C.last_updated_timestamp, _C.source_type, _C.source_id,
         _C.run_id, _C.span_id, _C.rationale, _C.overrides, _C.valid, _C.assessment_metadata)


def _row(a: Assessment) -> dict[str, Any]:
    aggregate_value, numeric = aggregate(a.value)
    return {
        "name": a.name,
        "assessment_type": a.kind,
        "value": json.dumps(a.value),
        "error": json.dumps(a.error) if a.error else None,
        "created_timestamp": a.created_ms,
        "last_updated_timestamp": a.updated_ms,
        "source_type": a.source_type,
        "source_id": a.source_id,
        "run_id": a.run_id,
        "span_id": a.span_id,
        "rationale": a.rationale,
        "overrides": a.overrides,
        "valid": a.valid,
        "assessment_metadata": json.dumps(a.metadata) if a.metadata else None,
        "aggregate_value": aggregate_value,
        "is_numeric_value": numeric,
    }


def insert(conn: Connection, a: Assessment, experiment_id: int, trace_timestamp_ms: int) -> None:
    conn.execute(sa.insert(_a).values(assessment_id=a.assessment_id, trace_id=a.trace_id,
                                      experiment_id=experiment_id,
                                      trace_timestamp_ms=trace_timestamp_ms, **_row(a)))


def update(conn: Connection, a: Assessment) -> None:
    values = {k: v for k, v in _row(a).items() if k not in ("created_timestamp", "source_type",
                                                          "source_id", "span_id", "overrides")}
    conn.execute(sa.update(_a).where(_C.trace_id == a.trace_id,
                                     _C.assessment_id == a.assessment_id).values(**values))


def set_valid(conn: Connection, trace_id: str, assessment_id: str, valid: bool) -> int:
    return int(conn.execute(sa.update(_a).where(_C.trace_id == trace_id,
                                                _C.assessment_id == assessment_id)
                            .values(valid=valid)).rowcount)


def delete(conn: Connection, trace_id: str, assessment_id: str) -> None:
    conn.execute(sa.delete(_a).where(_C.trace_id == trace_id, _C.assessment_id == assessment_id))


def exists(conn: Connection, assessment_id: str) -> bool:
    found = conn.scalar(sa.select(_C.assessment_id).where(_C.assessment_id == assessment_id))
    return found is not None


def get(conn: Connection, trace_id: str, assessment_id: str) -> Assessment | None:
    found = by_trace(conn, [trace_id], assessment_id=assessment_id)
    return found[trace_id][0] if found[trace_id] else None


# A trace read (``batchGet``, ``traces/get``, a search page) loads its traces' assessments in
# one statement compiled once, not built per request (that cost as much as the query).
_BY_TRACES = Prepared(lambda dialect: sa.select(*_READ).where(one_of(dialect, _C.trace_id))
                      .order_by(_C.created_timestamp, _C.assessment_id))


def by_trace(conn: Connection, trace_ids: Sequence[str],
             assessment_id: str | None = None) -> dict[str, list[Assessment]]:
    """Each trace's assessments, oldest first."""
    out: dict[str, list[Assessment]] = {i: [] for i in trace_ids}
    if not trace_ids:
        return out
    if assessment_id is None:
        rows: Any = _BY_TRACES.all_for_ids(conn, list(dict.fromkeys(trace_ids)))
    else:
        rows = conn.execute(sa.select(*_READ).where(
            _C.trace_id.in_(list(trace_ids)), _C.assessment_id == assessment_id)
            .order_by(_C.created_timestamp, _C.assessment_id))
    for (found_id, trace_id, name, kind, value, error, created, updated, source_type, source_id,
         run_id, span_id, rationale, overrides, valid, metadata) in rows:
        out[trace_id].append(Assessment(
            assessment_id=found_id, trace_id=trace_id, name=name,
            kind=kind, value=json.loads(value),
            source_type=source_type, source_id=source_id,
            created_ms=int(created), updated_ms=int(updated),
            valid=bool(valid), error=json.loads(error) if error else None,
            rationale=rationale,
            metadata=json.loads(metadata) if metadata else None,
            span_id=span_id, run_id=run_id, overrides=overrides,
        ))
    return out
