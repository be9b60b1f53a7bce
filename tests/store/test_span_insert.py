"""A large export's spans (SQLite: multi-row INSERTs of ``_SQLITE_CHUNK`` rows, then
executemany for the rest) are stored exactly as the plain one-statement-per-row insert stores
them: every column, value types included, and on SQLite the same row order (rowids), which the
span outline reads ties in. Checked on each database with awkward values (NULLs, costs, model
columns, non-ASCII, quotes, control characters)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from support.trace_rows import insert_experiments, schema_engine

from trackd.entities.otlp import SpanRow
from trackd.store import spans as span_store
from trackd.store import tables as T

# Two whole chunks and a remainder, so that both ways of inserting run.
N_SPANS = 2 * span_store._SQLITE_CHUNK + 345
AWKWARD = ["plain", "", 'quote " and \\ backslash', "new\nline\ttab\x01\x1f", "é ✓ 𝄞 \u2028",
           '{"looks": ["like", "json"]}', "x" * 3000]


def _rows(trace_id: str) -> list[SpanRow]:
    rows = []
    for i in range(N_SPANS):
        text = AWKWARD[i % len(AWKWARD)]
        start = 1_796_357_957_013_667_814 + i // 2  # ties: two spans per start time
        row = SpanRow(trace_id, f"{i:016x}", None if i % 9 == 0 else f"{i // 3:016x}",
                      text, None if i % 4 == 0 else ("LLM", "CHAIN", text[:500])[i % 3],
                      ("OK", "ERROR", "UNSET")[i % 3], start,
                      None if i % 11 == 0 else start + i, json.dumps({"i": i, "t": text}), {})
        if i % 5 == 0:
            row.model_name, row.model_provider = text[:500] or None, "openai"
            row.costs = {"input_cost": i / 7, "total_cost": 0.1 * i}
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    with schema_engine(db_kind, tmp_path_factory.mktemp("span-insert")) as engine:
        with engine.begin() as conn:
            insert_experiments(conn, (1,))
            for trace_id in ("tr-chunked", "tr-plain"):
                conn.execute(sa.insert(T.trace_info).values(
                    request_id=trace_id, experiment_id=1, timestamp_ms=0, status="OK"))
        yield engine


def _stored(conn: Any, trace_id: str, order: str) -> list[tuple[Any, ...]]:
    columns = ", ".join(c for c in span_store.WRITTEN if c != "trace_id")
    return [tuple(r) for r in conn.execute(sa.text(
        f"SELECT {columns}, duration_ns FROM spans WHERE trace_id = :t ORDER BY {order}"),
        {"t": trace_id})]


@pytest.mark.parametrize("variables", [None, 999, 40])
def test_large_insert_stores_what_the_plain_insert_stores(engine: sa.Engine,
                                                          variables: int | None) -> None:
    if variables is not None and engine.dialect.name != "sqlite":
        pytest.skip("SQLite's limit on variables")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM spans"))
        if variables is not None:  # an older or smaller SQLite build: smaller chunks, or none
            dbapi: Any = conn.connection.dbapi_connection
            old = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
        try:
            span_store.insert_spans(conn, 1, _rows("tr-chunked"))
        finally:
            if variables is not None:
                dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, old)
        # The reference: the same rows one statement execution each.
        span_store._INSERT.run_tuples(conn, span_store.WRITTEN,
                                      span_store.span_values(1, _rows("tr-plain")))
    with engine.connect() as conn:
        order = "rowid" if engine.dialect.name == "sqlite" else "span_id"
        chunked, plain = _stored(conn, "tr-chunked", order), _stored(conn, "tr-plain", order)
    assert len(chunked) == N_SPANS
    assert [tuple(map(repr, r)) for r in chunked] == [tuple(map(repr, r)) for r in plain]
    if engine.dialect.name == "sqlite":  # inserted in the export's order
        assert [r[1] for r in chunked] == [f"{i:016x}" for i in range(N_SPANS)]
