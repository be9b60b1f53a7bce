"""A search page's infos written straight from the rows, checked against the entities' JSON.

``traces/search`` answers ``service.traces._infos_json``: each info built from its row's tuple,
and on SQLite its tags and metadata passed on as the JSON text SQLite gathered. The reference is
``TraceInfo.to_json`` of the infos ``_with_assessments`` builds from ``load_rows``. Both must
give the same bytes on data that tempts a shortcut: a trace name beside a tag row of that name,
values that spell the name's key or a JSON null, NULL values, the metadata MLflow keeps in
columns (with and without a stale row of the same key), assessments, awkward characters, traces
without tags or metadata, unknown and repeated ids; with SQLite's text and with it parsed.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import sqlalchemy as sa
from support.trace_rows import insert_experiments, insert_trace, schema_engine

from trackd.entities.assessments import Assessment
from trackd.service import traces as service
from trackd.store import assessments as assessment_store
from trackd.store import traces as store

AWKWARD = ["plain", "", 'quote " and \\ backslash', "new\nline\ttab\x01\x1f\x7f",
           "é ✓ 𝄞 \u2028 \ufeff", '{"looks": ["like", "json"]}', "null", ":null", 'a":null,"b',
           '"mlflow.traceName":"x"', '"mlflow.trace.session":', "x" * 8000, "</script>"]
NAMES = [None, "", "n1", 'q"é name']


def _traces() -> list[dict[str, object]]:
    traces: list[dict[str, object]] = []
    for i in range(48):
        tags = {f"t{(i * 7 + k) % 11}": AWKWARD[(i + k) % len(AWKWARD)] for k in range(i % 5)}
        metadata = {f"m.{(i * 5 + k) % 13}": AWKWARD[(i * 3 + k) % len(AWKWARD)]
                    for k in range(i % 7)}
        if i % 5 == 1:
            metadata["nullable"] = None  # type: ignore[assignment]
        if i % 9 == 4:
            tags["mlflow.traceName"] = "a tag row of the name"  # beside the column
        if i % 11 == 3:
            metadata["mlflow.trace.tokenUsage"] = '{"stale": 1}'  # beside the columns
        if i % 13 == 6:
            tags["t.null"] = None  # type: ignore[assignment]
        traces.append({
            "request_id": f"tr-{i:03d}", "experiment_id": 1 + i % 2,
            "timestamp_ms": [1_000, 0, 1_764_000_000_123, 253_402_300_800_000][i % 4] + i,
            "execution_time_ms": None if i % 4 == 0 else i * 1_001,
            "status": ("OK", "ERROR", "IN_PROGRESS")[i % 3],
            "client_request_id": f"c-{i}" if i % 3 == 0 else None,
            "request_preview": AWKWARD[i % len(AWKWARD)][:1000] if i % 2 else None,
            "response_preview": AWKWARD[(i + 5) % len(AWKWARD)][:1000] if i % 4 == 1 else None,
            "trace_name": NAMES[i % len(NAMES)],
            "session_id": f"s-{i}" if i % 6 == 5 else None,
            "input_tokens": i if i % 7 == 0 else None,
            "total_tokens": 3 * i if i % 7 == 0 else None,
            "total_cost": i / 7 if i % 10 == 2 else None,
            "tags": tags if i % 8 != 7 else {}, "metadata": metadata if i % 8 != 7 else {},
        })
    return traces


TRACES = _traces()


@pytest.fixture(scope="module")
def engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    with schema_engine(db_kind, tmp_path_factory.mktemp("trace-infos-json")) as engine:
        with engine.begin() as conn:
            insert_experiments(conn, (1, 2))
            for n, t in enumerate(TRACES):
                insert_trace(conn, t)
                for k in range(n % 3 if n % 4 == 0 else 0):
                    assessment_store.insert(conn, Assessment(
                        assessment_id=f"a-{n}-{k}", trace_id=str(t["request_id"]),
                        name=f"quality {k}", kind="feedback", value=[True, "good é", 0.5][k],
                        source_type="HUMAN", source_id="me", created_ms=10 + k,
                        updated_ms=20 + k, rationale="because" if k else None,
                        metadata={"m": "v"} if k else None),
                        int(t["experiment_id"]), int(t["timestamp_ms"]))  # type: ignore[call-overload]
        yield engine


IDS = [str(t["request_id"]) for t in TRACES][::-1] + ["tr-missing", "tr-005", "tr-005"]


def _reference(conn: sa.Connection, ids: list[str]) -> bytes:
    infos = service._with_assessments(conn, store.load_rows(conn, ids))
    return orjson.dumps([i.to_json() for i in infos])


@pytest.mark.parametrize("sqlite_text", [True, False], ids=["as-gathered", "parsed"])
def test_infos_json_equals_the_entities_json(engine: sa.Engine, sqlite_text: bool,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if not sqlite_text:  # as on a SQLite that quotes strings otherwise than orjson
        monkeypatch.setattr(store, "_writes_orjsons", False)
    with engine.connect() as conn:
        for ids in (IDS, IDS[:1], IDS[5:17], ["tr-missing"], []):
            assert orjson.dumps(service._infos_json(conn, ids)) == _reference(conn, ids)


def test_sqlite_text_is_taken_where_it_can_be(engine: sa.Engine) -> None:
    """The comparison above is not vacuous: on SQLite most traces' tags and metadata go out as
    SQLite's text, and the traces that need parsing (a NULL value) are parsed."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        rows = store.load_json_rows(conn, IDS)
    kinds = {(type(tags).__name__, type(metadata).__name__) for _, tags, metadata in rows}
    assert ("str", "str") in kinds and ("str", "dict") in kinds and ("dict", "str") in kinds


def test_the_probe_agrees_with_every_code_point(engine: sa.Engine) -> None:
    """``sqlite_writes_orjsons`` probes a few characters; here every code point (outside the
    surrogates) is quoted by SQLite and by orjson, in chunks, as a key and as a value."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    points = [*range(0xD800), *range(0xE000, 0x110000)]
    with engine.connect() as conn:
        same = True
        for start in range(0, len(points), 8192):
            text = "".join(map(chr, points[start:start + 8192]))
            found = conn.exec_driver_sql("SELECT json_group_object(?, ?)", (text, text)).scalar()
            same = same and found == orjson.dumps({text: text}).decode()
        assert store.sqlite_writes_orjsons(conn) == same
