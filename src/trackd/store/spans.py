"""Reading the spans ``mlflow server`` stored in its ``spans`` table (SQL only).

trackd does not ingest spans into the table yet (OTLP answers 501; the client then stores
spans as the trace's traces.json artifact), but a database that ``mlflow server`` filled holds
them here. Declared as a lightweight table clause, not in trackd.store.tables: only these
columns are read, and the table's computed column and cost indexes stay MLflow's business.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

_spans = sa.table(
    "spans",
    sa.column("trace_id"),
    sa.column("span_id"),
    sa.column("start_time_unix_nano"),
    sa.column("content"),
)


def contents_by_trace(conn: Connection, trace_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each trace's stored spans (``content`` JSON), in start order."""
    out: dict[str, list[str]] = {i: [] for i in trace_ids}
    if not trace_ids:
        return out
    query = (sa.select(_spans.c.trace_id, _spans.c.content)
             .where(_spans.c.trace_id.in_(list(trace_ids)))
             .order_by(_spans.c.trace_id, _spans.c.start_time_unix_nano, _spans.c.span_id))
    for trace_id, content in conn.execute(query):
        out[trace_id].append(content)
    return out
