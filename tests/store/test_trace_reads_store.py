"""The two quick paths of a trace search, checked against the statements they replace.

``load_rows`` on SQLite gathers each trace's tags and metadata into JSON inside the database;
``load_rows_apart`` reads them row by row, as on the other databases. A search without a filter
runs a statement compiled once; ``built_search_ids`` builds it per request. Both pairs must
give the same traces, values, and key order, on awkward data (NULL values, quotes, control
characters, non-ASCII, traces without tags or metadata, unknown and repeated ids).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from support.trace_rows import insert_experiments, insert_trace, schema_engine

from trackd.store import traces as store
from trackd.store import traces_search

AWKWARD = ['plain', '', 'quote " and \\ backslash', "new\nline\ttab\x01\x1f", "é ✓ 𝄞 \u2028",
           '{"looks": ["like", "json"]}', "null", "123", "x" * 8000]


def _traces() -> list[dict[str, object]]:
    traces: list[dict[str, object]] = []
    for i in range(40):
        tags = {f"t{(i * 7 + k) % 11}": AWKWARD[(i + k) % len(AWKWARD)] for k in range(i % 4)}
        metadata = {f"m.{(i * 5 + k) % 13}": AWKWARD[(i * 3 + k) % len(AWKWARD)]
                    for k in range(i % 6)}
        if i % 5 == 1:
            metadata["nullable"] = None  # type: ignore[assignment]
        traces.append({
            "request_id": f"tr-{i:03d}", "experiment_id": 1 + i % 3,
            "timestamp_ms": 1_000 + (i * 37) % 17,  # ties: request_id breaks them
            "execution_time_ms": None if i % 4 == 0 else i, "status": ("OK", "ERROR")[i % 2],
            "trace_name": None if i % 3 == 0 else f"n{i % 4}",
            "input_tokens": i if i % 7 == 0 else None,
            "tags": tags, "metadata": metadata,
        })
    return traces


TRACES = _traces()


@pytest.fixture(scope="module")
def engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    with schema_engine(db_kind, tmp_path_factory.mktemp("trace-reads")) as engine:
        with engine.begin() as conn:
            insert_experiments(conn, (1, 2, 3))
            for t in TRACES:
                insert_trace(conn, t)
        yield engine


def _as_lists(rows: list[tuple[dict[str, object], dict[str, str], dict[str, str]]]) -> list[object]:
    return [(columns, list(tags.items()), list(metadata.items()))
            for columns, tags, metadata in rows]


def test_load_rows_matches_the_rows_read_apart(engine: sa.Engine) -> None:
    ids = [t["request_id"] for t in TRACES][::-1] + ["tr-missing", "tr-005", "tr-005"]
    with engine.connect() as conn:
        loaded = store.load_rows(conn, ids)
        apart = store.load_rows_apart(conn, list(dict.fromkeys(ids)))
    expected = [apart[i] for i in ids if i in apart]
    assert _as_lists(loaded) == _as_lists(expected)
    by_id = {t["request_id"]: t for t in TRACES}
    assert len(loaded) == len(TRACES) + 2
    for columns, tags, metadata in loaded:
        trace = by_id[columns["request_id"]]
        assert tags == trace["tags"]
        assert metadata == {k: "" if v is None else v
                            for k, v in trace["metadata"].items()}  # type: ignore[attr-defined]
        assert columns["input_tokens"] == trace["input_tokens"]


@pytest.mark.parametrize("order_by", [
    [("timestamp_ms", False)], [("timestamp_ms", True)], [("request_id", False)],
    [("status", True), ("execution_time_ms", False)], [("name", True), ("timestamp_ms", True)],
])
@pytest.mark.parametrize("experiments", [[1], [2, 3], [1, 2, 3], [4]])
def test_unfiltered_search_matches_the_built_statement(
        engine: sa.Engine, order_by: list[tuple[str, bool]], experiments: list[int]) -> None:
    with engine.connect() as conn:
        for offset, limit in ((0, 1000), (0, 7), (7, 7), (35, 10)):
            quick = traces_search.search_ids(conn, experiments, (), order_by, offset, limit)
            built = traces_search.built_search_ids(conn, experiments, (), order_by, offset,
                                                   limit)
            assert quick == built
            if offset == 0 and limit == 1000 and experiments != [4]:
                assert len(quick) == sum(t["experiment_id"] in experiments for t in TRACES)
