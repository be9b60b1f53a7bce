"""The cost columns of MLflow's ``spans`` table (SQL only): what a trace's cost is summed from."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

_spans = sa.table("spans", *(sa.column(c) for c in (
    "trace_id", "span_id", "parent_span_id", "input_cost", "output_cost", "total_cost")))
_C = _spans.c

SpanCost = tuple[str, str | None, dict[str, float]]


def priced_spans(conn: Connection, trace_id: str) -> list[SpanCost]:
    """(span id, parent span id, cost) of a trace's spans that carry a cost."""
    query = sa.select(_C.span_id, _C.parent_span_id, _C.input_cost, _C.output_cost,
                      _C.total_cost).where(
        _C.trace_id == trace_id,
        sa.or_(_C.input_cost.is_not(None), _C.output_cost.is_not(None),
               _C.total_cost.is_not(None)))
    return [(r[0], r[1], {k: float(v) for k, v in (("input_cost", r[2]), ("output_cost", r[3]),
                                                   ("total_cost", r[4])) if v is not None})
            for r in conn.execute(query)]
