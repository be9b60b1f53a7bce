"""MLflow's ``spans`` table (SQL only): spans ingested over OTLP, by trackd or mlflow server.

Declared as a lightweight table clause, not in trackd.store.tables: only these columns are
written and read; the computed ``duration_ns`` column and the cost indexes are the database's
and MLflow's business.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam

from trackd.entities.otlp import SpanRow
from trackd.store.prepared import Prepared, execute_raw, one_of

_spans = sa.table(
    "spans",
    sa.column("trace_id"),
    sa.column("experiment_id"),
    sa.column("span_id"),
    sa.column("parent_span_id"),
    sa.column("name"),
    sa.column("type"),
    sa.column("status"),
    sa.column("start_time_unix_nano"),
    sa.column("end_time_unix_nano"),
    sa.column("content"),
    sa.column("input_cost"),
    sa.column("output_cost"),
    sa.column("total_cost"),
    sa.column("model_name"),
    sa.column("model_provider"),
)
WRITTEN = ("trace_id", "experiment_id", "span_id", "parent_span_id", "name", "type", "status",
            "start_time_unix_nano", "end_time_unix_nano", "content", "input_cost",
            "output_cost", "total_cost", "model_name", "model_provider")
# Span ingest is a hot path (the official client exports each span as it ends): its statements
# are compiled once (trackd.store.prepared), and an export's spans go in as one multi-row insert
# (SQLite's executemany and pymysql's, which rewrites it into multi-row VALUES, already do).
_INSERT = Prepared(lambda _dialect: sa.insert(_spans).values(
    {name: bindparam(name) for name in WRITTEN}), multi_row=True)
_DELETE = Prepared(lambda _dialect: sa.delete(_spans).where(
    _spans.c.trace_id == bindparam("trace_id"), _spans.c.span_id == bindparam("span_id")))


def replace_spans(conn: Connection, experiment_id: int, rows: Sequence[SpanRow]) -> None:
    """Store spans, a span sent again (same trace and span id) replacing the stored one, as
    MLflow's ingest does when a client re-exports."""
    if not rows:
        return
    _DELETE.run_tuples(conn, ("trace_id", "span_id"), [(r.trace_id, r.span_id) for r in rows])
    insert_spans(conn, experiment_id, rows)


def insert_spans(conn: Connection, experiment_id: int, rows: Sequence[SpanRow]) -> None:
    """Store spans of traces that have none stored yet."""
    if not rows:
        return
    if len(rows) >= _SQLITE_CHUNK and conn.dialect.name == "sqlite":
        rows = _insert_sqlite_chunks(conn, experiment_id, rows)
    if rows:
        _INSERT.run_tuples(conn, WRITTEN, span_values(experiment_id, rows))


# A large export's spans go to SQLite as multi-row INSERTs of up to this many rows (15 values
# each, within SQLite's limit on variables: 32,766 since 3.32, 999 before, read from the
# connection): measured on a 30,000-span export, executemany cost ~7.6 µs of CPU per span,
# 1,000-row statements ~6.2. Smaller exports keep executemany (no difference there). Same rows
# in the same order: the same rowids.
_SQLITE_CHUNK = 1000


@functools.lru_cache(maxsize=4)
def _sqlite_values(n_rows: int) -> str:
    return ("INSERT INTO spans (" + ", ".join(WRITTEN) + ") VALUES "
            + ", ".join(["(" + ", ".join("?" * len(WRITTEN)) + ")"] * n_rows))


def _insert_sqlite_chunks(conn: Connection, experiment_id: int,
                          rows: Sequence[SpanRow]) -> Sequence[SpanRow]:
    """Insert whole chunks of ``rows``; the rows left over (fewer than a chunk)."""
    from sqlite3 import SQLITE_LIMIT_VARIABLE_NUMBER  # SQLite databases only

    dbapi = conn.connection.dbapi_connection
    limit = dbapi.getlimit(SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    chunk = min(_SQLITE_CHUNK, limit // len(WRITTEN))
    if chunk < 2:
        return rows
    sql = _sqlite_values(chunk)
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        whole = len(rows) - len(rows) % chunk
        for start in range(0, whole, chunk):
            params: list[Any] = []
            for r in rows[start:start + chunk]:
                costs = r.costs
                params += (r.trace_id, experiment_id, r.span_id, r.parent_span_id, r.name,
                           r.type, r.status, r.start_ns, r.end_ns, r.content,
                           costs.get("input_cost"), costs.get("output_cost"),
                           costs.get("total_cost"), r.model_name, r.model_provider)
            execute_raw(conn, cursor, sql, params)
    finally:
        cursor.close()
    return rows[whole:]


def span_values(experiment_id: int, rows: Sequence[SpanRow]) -> list[tuple[Any, ...]]:
    """Each span's values in the order of ``WRITTEN``."""
    return [(
        r.trace_id, experiment_id, r.span_id, r.parent_span_id, r.name, r.type, r.status,
        r.start_ns, r.end_ns, r.content, r.costs.get("input_cost"), r.costs.get("output_cost"),
        r.costs.get("total_cost"), r.model_name, r.model_provider,
    ) for r in rows]


def usage_tree(conn: Connection, trace_id: str) -> list[tuple[str, str | None, str]]:
    """(span id, parent span id, content) of a trace's spans that carry token usage: what the
    trace's totals are summed from when its root span arrives."""
    query = (sa.select(_spans.c.span_id, _spans.c.parent_span_id, _spans.c.content)
             .where(_spans.c.trace_id == trace_id,
                    _spans.c.content.like('%"mlflow.chat.tokenUsage"%')))
    return [(r[0], r[1], r[2]) for r in conn.execute(query)]


# (span id, parent span id, {input_cost, output_cost, total_cost} as stored)
SpanCost = tuple[str, str | None, dict[str, float]]
_COSTS = ("input_cost", "output_cost", "total_cost")


def priced_spans(conn: Connection, trace_id: str) -> list[SpanCost]:
    """The spans of a trace that carry a cost: what the trace's cost is summed from."""
    c = _spans.c
    query = sa.select(c.span_id, c.parent_span_id, *(c[k] for k in _COSTS)).where(
        c.trace_id == trace_id, sa.or_(*(c[k].is_not(None) for k in _COSTS)))
    return [(r[0], r[1], {k: float(v) for k, v in zip(_COSTS, r[2:], strict=True)
                          if v is not None})
            for r in conn.execute(query)]


def parents(conn: Connection, trace_id: str) -> dict[str, str | None]:
    """span id -> parent span id, for every span of a trace."""
    query = sa.select(_spans.c.span_id, _spans.c.parent_span_id).where(
        _spans.c.trace_id == trace_id)
    return {r[0]: r[1] for r in conn.execute(query)}


# Reading traces back (``batchGet``, ``traces/get``, search with spans, the trace artifact):
# one statement compiled once for all the traces asked, run on the driver's cursor. It sorts
# by (trace_id, start time) only, the order of MLflow's (trace_id, start_time_unix_nano)
# index, so the database walks the index instead of sorting (on SQLite a sort by span id too
# took half the query's time); spans starting in the same nanosecond are put in span id order
# here.
_CONTENTS = Prepared(lambda dialect: sa.select(
    _spans.c.trace_id, _spans.c.start_time_unix_nano, _spans.c.span_id, _spans.c.content)
    .where(one_of(dialect, _spans.c.trace_id))
    .order_by(_spans.c.trace_id, _spans.c.start_time_unix_nano))


def contents_by_trace(conn: Connection, trace_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each trace's stored spans (``content`` JSON), in start order (then span id order)."""
    out: dict[str, list[str]] = {i: [] for i in trace_ids}
    if not trace_ids:
        return out
    rows = _CONTENTS.all_for_ids(conn, list(out))
    tied: set[str] = set()
    last_trace, last_start = None, None
    for trace_id, start, _span_id, content in rows:
        if start == last_start and trace_id == last_trace:
            tied.add(trace_id)
        last_trace, last_start = trace_id, start
        out[trace_id].append(content)
    for trace_id in tied:
        ordered = sorted((start, span_id, content) for t, start, span_id, content in rows
                         if t == trace_id)
        out[trace_id] = [content for _start, _span_id, content in ordered]
    return out


# The trace page's outline (trackd.service.span_outline): what draws a trace's span tree and
# timeline, none of the spans' payloads. MLflow's (trace_id, start_time_unix_nano) index
# gives the rows in start order without a sort.
OUTLINE_COLUMNS = ("span_id", "parent_span_id", "name", "type", "status",
                   "start_time_unix_nano", "end_time_unix_nano")
_OUTLINE = Prepared(lambda _dialect: sa.select(*(_spans.c[k] for k in OUTLINE_COLUMNS))
                    .where(_spans.c.trace_id == bindparam("trace_id"))
                    .order_by(_spans.c.start_time_unix_nano))
_ONE_CONTENT = Prepared(lambda _dialect: sa.select(_spans.c.content).where(
    _spans.c.trace_id == bindparam("trace_id"), _spans.c.span_id == bindparam("span_id")))


def outline(conn: Connection, trace_id: str) -> list[tuple[Any, ...]]:
    """A trace's spans as ``OUTLINE_COLUMNS`` tuples, in start order; [] if none is stored."""
    return [tuple(row) for row in _OUTLINE.all(conn, trace_id=trace_id)]


def content_of(conn: Connection, trace_id: str, span_id: str) -> str | None:
    """One stored span's ``content`` (its id as the ``span_id`` column holds it: hex)."""
    row = _ONE_CONTENT.one(conn, trace_id=trace_id, span_id=span_id)
    return row[0] if row else None


def has_spans(conn: Connection, trace_id: str) -> bool:
    query = sa.select(_spans.c.span_id).where(_spans.c.trace_id == trace_id).limit(1)
    return conn.execute(query).first() is not None
