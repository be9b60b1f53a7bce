"""A new trace that arrives whole in one span export (what OpenTelemetry collectors and SDK batch
exporters send): written without first looking the experiment and the trace up.

The general ingest path reads the experiment (is it active, where are its artifacts), reads
the trace with a lock (is it new), then inserts the trace, its tags, its metadata and its
spans: five to six statements per export. Each statement costs this process more than the
database's own work for it (on PostgreSQL the driver's Python and a round trip with the GIL
handed back and forth), so for a trace that comes whole:

- PostgreSQL gets one statement: the trace row is inserted only if the experiment is active
  with the artifact location the caller assumed, and only if the trace is new (``ON CONFLICT
  DO NOTHING``); the tags, metadata and spans are inserted from the trace row the insert
  returned, so they are written exactly when it is.
- SQLite (no data-modifying CTEs) gets the same guarded trace insert, then its children as
  usual: two reads fewer.

Either way nothing is written when the guard fails or the trace exists, and the caller says
which, so that it can take the general path (which raises MLflow's errors and locks the row).
MariaDB keeps the general path: its duplicate-key handling needs a savepoint either way.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Connection, Float, Integer, String

from trackd.entities.otlp import SpanRow
from trackd.store import spans as span_store
from trackd.store.prepared import execute_raw
from trackd.store.tables import trace_info
from trackd.store.traces import COLUMN_NAMES, insert_children

# The statement carries every span's 15 values: PostgreSQL takes at most 65,535 parameters,
# and exports larger than this go the general path (chunked multi-row inserts).
MAX_SPANS = 1000
DIALECTS = ("postgresql", "sqlite")


class Outcome(enum.Enum):
    WRITTEN = "written"
    EXISTS = "exists"  # the trace was there already: nothing written
    # The experiment is not active, or not at the assumed location: nothing written.
    UNCHECKED = "unchecked"


def insert_whole_trace(conn: Connection, experiment_id: int, assumed_location: str | None,
                       row: dict[str, Any], tags: dict[str, str], metadata: dict[str, str],
                       spans: Sequence[SpanRow]) -> Outcome:
    """Write a new trace (``row``: trace_info columns by name), its tags, metadata and spans,
    if experiment ``experiment_id`` is active with artifact location ``assumed_location`` and
    the trace does not exist. Only for ``DIALECTS`` and at most ``MAX_SPANS`` spans."""
    values = tuple(row.get(name) for name in COLUMN_NAMES)
    if conn.dialect.name == "postgresql":
        return _postgresql(conn, experiment_id, assumed_location, values, tags, metadata, spans)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        execute_raw(conn, cursor, _SQLITE_GUARDED_INSERT, (*values, experiment_id,
                                                            assumed_location))
        inserted = cursor.rowcount
    finally:
        cursor.close()
    if not inserted:
        return _why_not(conn, experiment_id, assumed_location)
    insert_children(conn, row["request_id"], tags, metadata)
    span_store.insert_spans(conn, experiment_id, spans)
    return Outcome.WRITTEN


def _why_not(conn: Connection, experiment_id: int, assumed_location: str | None) -> Outcome:
    """After a guarded insert wrote nothing (rare): was it the experiment or the trace?"""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        execute_raw(conn, cursor, _SQLITE_GUARD, (experiment_id, assumed_location))
        return Outcome.EXISTS if cursor.fetchone() is not None else Outcome.UNCHECKED
    finally:
        cursor.close()


_ACTIVE = ("experiment_id = ? AND lifecycle_stage = 'active' AND artifact_location IS ?")
_SQLITE_GUARD = f"SELECT 1 FROM experiments WHERE {_ACTIVE}"
# SQLite parses ON CONFLICT after INSERT ... SELECT only when the SELECT has a WHERE clause.
_SQLITE_GUARDED_INSERT = (
    f"INSERT INTO trace_info ({', '.join(COLUMN_NAMES)}) "
    f"SELECT {', '.join('?' * len(COLUMN_NAMES))} FROM experiments WHERE {_ACTIVE} "
    "ON CONFLICT (request_id) DO NOTHING"
)


# -- PostgreSQL ---------------------------------------------------------------------------------

def _pg_type(column: Any) -> str:
    # Parameters go untyped (psycopg sends strings and None as "unknown"); inside a SELECT list
    # or a VALUES list PostgreSQL would make those text, which a bigint column refuses. Each is
    # cast to its column's kind, never to a length: a value too long for the column is refused
    # by the insert, as a direct insert refuses it.
    if isinstance(column.type, BigInteger | Integer):
        return "bigint"
    if isinstance(column.type, Float):
        return "double precision"
    if isinstance(column.type, String):
        return "text"
    raise TypeError(f"no cast for {column.name}: {column.type!r}")


_INFO_CASTS = tuple(_pg_type(trace_info.c[name]) for name in COLUMN_NAMES)
_SPAN_CASTS = {"experiment_id": "bigint", "start_time_unix_nano": "bigint",
               "end_time_unix_nano": "bigint", "input_cost": "double precision",
               "output_cost": "double precision", "total_cost": "double precision"}
_SPAN_COLUMNS = span_store.WRITTEN
_KEY_VALUE_CASTS = ("text", "text")
# Statement texts by placeholder style and (tags, metadata, spans) counts: exports of one
# shape recur.
_TEXTS: dict[tuple[bool, int, int, int], str] = {}
_TEXTS_KEPT = 256
_texts_lock = threading.Lock()


def _postgresql(conn: Connection, experiment_id: int, assumed_location: str | None,
                values: tuple[Any, ...], tags: dict[str, str], metadata: dict[str, str],
                spans: Sequence[SpanRow]) -> Outcome:
    # psycopg 3 gets PostgreSQL's own $n placeholders through its RawCursor (it would parse a
    # %s query of this many parameters on every execution); psycopg2 (postgresql+psycopg2://)
    # takes %s, which it fills in itself.
    numbered = conn.dialect.driver == "psycopg"
    shape = (numbered, len(tags), len(metadata), len(spans))
    sql = _TEXTS.get(shape)
    if sql is None:
        sql = _pg_text(*shape)
        with _texts_lock:
            if len(_TEXTS) < _TEXTS_KEPT:
                _TEXTS[shape] = sql
    params: list[Any] = [experiment_id, assumed_location, *values]
    for pairs in (tags, metadata):
        for key, value in pairs.items():
            params += (key, value)
    for span in span_store.span_values(experiment_id, spans):
        params += span
    dbapi = conn.connection.dbapi_connection
    if numbered:
        from psycopg import RawCursor  # PostgreSQL servers only

        cursor = RawCursor(dbapi)  # type: ignore[call-overload]
    else:
        cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        execute_raw(conn, cursor, sql, params)
        active, inserted = cursor.fetchone()
    finally:
        cursor.close()
    if inserted:
        return Outcome.WRITTEN
    return Outcome.EXISTS if active else Outcome.UNCHECKED


def _pg_text(numbered: bool, n_tags: int, n_metadata: int, n_spans: int) -> str:
    counter = iter(range(1, 1_000_000))

    def params(casts: Sequence[str]) -> str:
        if numbered:
            return ", ".join(f"${next(counter)}::{cast}" for cast in casts)
        return ", ".join(f"%s::{cast}" for cast in casts)

    guard = (f"SELECT 1 FROM experiments WHERE experiment_id = {params(['bigint'])} "
             f"AND lifecycle_stage = 'active' "
             f"AND artifact_location IS NOT DISTINCT FROM {params(['text'])}")
    parts = [
        f"e AS ({guard})",
        f"t AS (INSERT INTO trace_info ({', '.join(COLUMN_NAMES)}) "
        f"SELECT {params(_INFO_CASTS)} FROM e "
        "ON CONFLICT (request_id) DO NOTHING RETURNING request_id)",
    ]
    for name, table, count in (("g", "trace_tags", n_tags),
                               ("m", "trace_request_metadata", n_metadata)):
        if count:
            rows = ", ".join(f"({params(_KEY_VALUE_CASTS)})" for _ in range(count))
            parts.append(f"{name} AS (INSERT INTO {table} (request_id, key, value) "
                         f"SELECT t.request_id, v.key, v.value FROM t, (VALUES {rows}) "
                         "AS v (key, value))")
    if n_spans:
        casts = [_SPAN_CASTS.get(name, "text") for name in _SPAN_COLUMNS]
        rows = ", ".join(f"({params(casts)})" for _ in range(n_spans))
        columns = ", ".join(_SPAN_COLUMNS)
        parts.append(f"s AS (INSERT INTO spans ({columns}) SELECT v.* FROM t, (VALUES {rows}) "
                     f"AS v ({columns}))")
    return ("WITH " + ", ".join(parts)
            + " SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM t)")
