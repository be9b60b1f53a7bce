"""Other instrumentations' OTLP spans in process, on each database: what lands in the ``spans``
table byte for byte as mlflow server 3.18 stores it (docs/mlflow-captures/otel-translation.md),
traces that arrive in pieces, spans of MLflow's own client left alone, and odd values that must
not break ingest."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from api.test_otlp_ingest import T0, _export, _hex, _info, _post, _s, _span


@pytest.fixture
def exp(api: Any) -> str:
    return api.new_experiment(f"otlp-tr-{uuid.uuid4().hex[:8]}")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def engine(database_url: str) -> Any:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def _rows(engine: Any, trace_id: str) -> dict[str, dict[str, Any]]:
    query = sa.text("SELECT name, type, model_name, model_provider, content FROM spans "
                    "WHERE trace_id = :t")
    with engine.connect() as conn:
        return {r.name: {"type": r.type, "model_name": r.model_name,
                         "model_provider": r.model_provider,
                         "attributes": json.loads(r.content)["attributes"]}
                for r in conn.execute(query, {"t": trace_id})}


def _added(row: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in row["attributes"].items()
            if k.startswith("mlflow.") and k != "mlflow.traceRequestId"}


def _event(name: str, **attributes: str) -> dict[str, Any]:
    return {"name": name, "timeUnixNano": str(T0 + 1),
            "attributes": [{"key": k, "value": _s(v)} for k, v in attributes.items()]}


def test_stored_as_mlflow_stores_them(api: Any, exp: str, engine: Any) -> None:
    trace, root, spring, vercel, unknown = _hex(16), _hex(8), _hex(8), _hex(8), _hex(8)
    spring_span = _span(trace, spring, "spring", parent=root,
                        attrs={"gen_ai.operation.name": _s("chat")})
    spring_span["events"] = [_event("gen_ai.content.prompt", **{"gen_ai.prompt": "spring in"}),
                             _event("gen_ai.content.completion",
                                    **{"gen_ai.completion": "spring out"})]
    body = _export(
        _span(trace, root, "root", attrs={
            "openinference.span.kind": _s("LLM"), "input.value": _s("What is 2+2?"),
            "output.value": _s('{"text": "4"}'), "llm.token_count.prompt": {"intValue": "12"},
            "llm.token_count.completion": {"intValue": "3"}, "llm.model_name": _s("acme-2"),
            "llm.provider": _s("acme")}),
        spring_span,
        _span(trace, vercel, "vercel", parent=root, attrs={
            "ai.operationId": _s("ai.generateText.doGenerate"),
            "ai.prompt.messages": _s('[{"role": "user", "content": "h\u00e9"}]'),
            "ai.response.text": _s("hey")}),
        _span(trace, unknown, "unknown", parent=root, attrs={
            "mlflow.spanType": _s('"UNKNOWN"'), "gen_ai.operation.name": _s("chat")}))
    assert _post(api, body, exp).status_code == 200
    rows = _rows(engine, "tr-" + trace)
    assert _added(rows["root"]) == {
        "mlflow.spanType": '"LLM"', "mlflow.spanInputs": '"What is 2+2?"',
        "mlflow.spanOutputs": '{"text": "4"}',
        "mlflow.chat.tokenUsage": '{"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}',
        "mlflow.llm.model": '"acme-2"', "mlflow.llm.provider": '"acme"'}
    assert (rows["root"]["type"], rows["root"]["model_name"], rows["root"]["model_provider"]) \
        == (None, "acme-2", "acme")
    # Spring AI's event values and Vercel's message format are stored unencoded, as by MLflow.
    assert _added(rows["spring"]) == {"mlflow.spanType": '"CHAT_MODEL"',
                                      "mlflow.spanInputs": "spring in",
                                      "mlflow.spanOutputs": "spring out"}
    assert _added(rows["vercel"]) == {
        "mlflow.spanType": '"LLM"', "mlflow.message.format": "vercel_ai",
        "mlflow.spanInputs": '{"messages": [{"role": "user", "content": "h\\u00e9"}]}',
        "mlflow.spanOutputs": '{"text": "hey"}'}
    # The type column keeps the type the span was sent with.
    assert rows["unknown"]["type"] == "UNKNOWN"
    assert rows["unknown"]["attributes"]["mlflow.spanType"] == '"CHAT_MODEL"'
    info = _info(api, "tr-" + trace)
    assert info["request_preview"] == '"What is 2+2?"'
    assert info["response_preview"] == '{"text": "4"}'


def test_trace_in_pieces_sums_translated_usage(api: Any, exp: str) -> None:
    trace, root, a, b = _hex(16), _hex(8), _hex(8), _hex(8)
    children = _export(
        _span(trace, a, "a", parent=root, attrs={
            "gen_ai.usage.input_tokens": {"intValue": "10"},
            "gen_ai.usage.output_tokens": {"intValue": "5"},
            "gen_ai.usage.cache_read.input_tokens": {"intValue": "2"}}),
        _span(trace, b, "b", parent=root, attrs={"gen_ai.usage.input_tokens": _s("3")}))
    assert _post(api, children, exp).status_code == 200
    assert _post(api, _export(_span(trace, root, "root")), exp).status_code == 200
    usage = json.loads(_info(api, "tr-" + trace)["trace_metadata"]["mlflow.trace.tokenUsage"])
    # The total is the reported totals summed: b reports none.
    assert usage == {"input_tokens": 13, "output_tokens": 5, "total_tokens": 15,
                     "cache_read_input_tokens": 2}


def test_mlflow_client_spans_are_left_alone(api: Any, exp: str, engine: Any) -> None:
    trace, root, child = _hex(16), _hex(8), _hex(8)
    body = _export(
        _span(trace, root, "root", attrs={"mlflow.spanType": _s('"CHAIN"'),
                                          "mlflow.spanInputs": _s('{"q": "model"}')}),
        _span(trace, child, "child", parent=root, attrs={
            "mlflow.spanType": _s('"UNKNOWN"'),
            "mlflow.spanInputs": _s('{"model": "acme-9", "temperature": 0}')}))
    assert _post(api, body, exp).status_code == 200
    rows = _rows(engine, "tr-" + trace)
    assert _added(rows["root"]) == {"mlflow.spanType": '"CHAIN"',
                                    "mlflow.spanInputs": '{"q": "model"}'}
    # Only the model named in the inputs is added, as mlflow server does.
    assert _added(rows["child"]) == {
        "mlflow.spanType": '"UNKNOWN"',
        "mlflow.spanInputs": '{"model": "acme-9", "temperature": 0}',
        "mlflow.llm.model": '"acme-9"'}
    assert rows["child"]["model_name"] == "acme-9"


def test_odd_values_are_stored_without_translation(api: Any, exp: str, engine: Any) -> None:
    trace, root = _hex(16), _hex(8)
    body = _export(_span(trace, root, "root", attrs={
        "openinference.span.kind": {"arrayValue": {"values": [_s("LLM")]}},
        "gen_ai.operation.name": {"kvlistValue": {"values": [{"key": "a", "value": _s("b")}]}},
        "llm.token_count.prompt": _s("many"), "llm.token_count.completion": {"doubleValue": 2.5},
        "input.value": _s(""), "output.value": _s("{}"), "span.type": {"intValue": "3"}}))
    assert _post(api, body, exp).status_code == 200
    assert _added(_rows(engine, "tr-" + trace)["root"]) == {}
