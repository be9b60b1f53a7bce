"""OTLP span ingest (``POST /v1/traces``) in process, on each database: both encodings and both
compressions, what a trace gets from its spans, and MLflow's answers to bad input (the statuses
and codes captured from mlflow server 3.18 in docs/mlflow-captures/traces.md), with nothing
half-written."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
import zlib
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

V3 = "/api/3.0/mlflow"
T0 = 1_796_357_957_013_667_814  # ns


def _hex(n: int) -> str:
    return uuid.uuid4().hex[: n * 2]


def _span(trace: str, span: str, name: str, parent: str | None = None,
          attrs: dict[str, Any] | None = None, start: int = T0, end: int | None = T0 + 37_000_000,
          code: int = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": trace, "spanId": span, "name": name,
                           "startTimeUnixNano": str(start), "status": {"code": code},
                           "attributes": [{"key": k, "value": v} for k, v in (attrs or {}).items()]}
    if end is not None:
        out["endTimeUnixNano"] = str(end)
    if parent:
        out["parentSpanId"] = parent
    return out


def _export(*spans: dict[str, Any], resource: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": k, "value": v} for k, v in (resource or {}).items()]},
        "scopeSpans": [{"spans": list(spans)}]}]}


def _post(api: Any, body: Any, experiment: str | None, *, content_type: str = "application/json",
          encoding: str | None = None, run: str | None = None) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": content_type}
    if experiment is not None:
        headers["x-mlflow-experiment-id"] = experiment
    if run is not None:
        headers["x-mlflow-run-id"] = run
    if encoding == "gzip":
        data = gzip.compress(data)
    elif encoding == "deflate":
        data = zlib.compress(data)
    if encoding:
        headers["Content-Encoding"] = encoding
    return api.client.request("POST", "/v1/traces", content=data, headers=headers)


def _s(text: str) -> dict[str, str]:
    return {"stringValue": text}


def _info(api: Any, trace_id: str) -> dict[str, Any]:
    return api.ok("GET", f"{V3}/traces/{trace_id}")["trace"]["trace_info"]  # type: ignore[no-any-return]


def _spans(api: Any, trace_id: str) -> list[dict[str, Any]]:
    return api.ok("GET", f"{V3}/traces/get", {"trace_id": trace_id})["trace"]["spans"]  # type: ignore[no-any-return]


@pytest.fixture
def exp(api: Any) -> str:
    return api.new_experiment(f"otlp-{uuid.uuid4().hex[:8]}")  # type: ignore[no-any-return]


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_json_export_makes_a_trace(api: Any, exp: str, encoding: str | None) -> None:
    trace, root, child = _hex(16), _hex(8), _hex(8)
    body = _export(
        _span(trace, root, "agent", attrs={
            "mlflow.spanType": _s('"AGENT"'), "mlflow.spanInputs": _s('{"q": "hi"}'),
            "mlflow.spanOutputs": _s('"HI"'), "mlflow.traceTag.team": _s('"search"'),
            "session.id": _s("s-1"), "user.id": _s("u-9"), "n": {"intValue": "5"}}),
        _span(trace, child, "llm", parent=root, start=T0 + 1_000_000, end=T0 + 30_000_000,
              attrs={"mlflow.spanType": _s("LLM"), "mlflow.llm.model": _s('"gpt-x"'),
                     "mlflow.chat.tokenUsage": _s(json.dumps(
                         {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}))}),
        resource={"service.name": _s("svc"), "telemetry.sdk.name": _s("opentelemetry")})
    resp = _post(api, body, exp, encoding=encoding)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {}
    trace_id = "tr-" + trace
    info = _info(api, trace_id)
    assert info["state"] == "OK" and info["trace_location"]["mlflow_experiment"] == {
        "experiment_id": exp}
    assert info["execution_duration"] == "0.037s"
    assert info["request_preview"] == '{"q": "hi"}' and info["response_preview"] == '"HI"'
    assert info["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info["tags"]["team"] == "search" and info["tags"]["service.name"] == "svc"
    assert "telemetry.sdk.name" not in info["tags"]
    assert json.loads(info["trace_metadata"]["mlflow.trace.tokenUsage"]) == {
        "input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert info["trace_metadata"]["mlflow.trace.session"] == "s-1"
    assert info["trace_metadata"]["mlflow.trace.user"] == "u-9"
    spans = {s["name"]: s for s in _spans(api, trace_id)}
    assert set(spans) == {"agent", "llm"}
    attrs = {a["key"]: a["value"] for a in spans["agent"]["attributes"]}
    assert attrs["mlflow.traceRequestId"] == {"string_value": trace_id}
    assert attrs["n"] == {"int_value": "5"}
    assert spans["llm"]["parent_span_id"] == spans["agent"]["span_id"]
    # Found by the searches MLflow's client and UI make.
    found = api.ok("POST", f"{V3}/traces/search", {
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}],
        "filter": "tags.team = 'search'"})
    assert [t["trace_id"] for t in found["traces"]] == [trace_id]


def test_protobuf_export_and_spans_in_several_requests(api: Any, exp: str) -> None:
    trace, root, child = _hex(16), _hex(8), _hex(8)

    def export(span: Span) -> bytes:
        request = ExportTraceServiceRequest()
        request.resource_spans.add().scope_spans.add().spans.append(span)
        return request.SerializeToString()

    kid = Span(trace_id=bytes.fromhex(trace), span_id=bytes.fromhex(child),
               parent_span_id=bytes.fromhex(root), name="step", start_time_unix_nano=T0 + 5,
               end_time_unix_nano=T0 + 9, status=Status(code=Status.STATUS_CODE_OK))
    kid.attributes.append(KeyValue(key="mlflow.spanType", value=AnyValue(string_value='"TOOL"')))
    resp = _post(api, export(kid), exp, content_type="application/x-protobuf")
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["content-type"] == "application/x-protobuf"
    info = _info(api, "tr-" + trace)
    assert info["state"] == "IN_PROGRESS"  # no root span yet
    top = Span(trace_id=bytes.fromhex(trace), span_id=bytes.fromhex(root), name="run",
               start_time_unix_nano=T0, end_time_unix_nano=T0 + 2_000_000_000,
               status=Status(code=Status.STATUS_CODE_ERROR, message="boom"))
    assert _post(api, export(top), exp, content_type="application/x-protobuf").status_code == 200
    info = _info(api, "tr-" + trace)
    assert info["state"] == "ERROR" and info["execution_duration"] == "2s"
    assert {s["name"] for s in _spans(api, "tr-" + trace)} == {"run", "step"}
    # A span sent twice in one export counts once, the later copy.
    twice = _export(_span(_hex(16), "ab" * 8, "first"), _span("", "", "x"))
    twice["resourceSpans"][0]["scopeSpans"][0]["spans"] = [
        _span("cd" * 16, "ab" * 8, "first"), _span("cd" * 16, "ab" * 8, "second")]
    assert _post(api, twice, exp).status_code == 200
    assert [s["name"] for s in _spans(api, "tr-" + "cd" * 16)] == ["second"]
    # A span sent again replaces the stored one.
    kid.name = "step-renamed"
    assert _post(api, export(kid), exp, content_type="application/x-protobuf").status_code == 200
    assert {s["name"] for s in _spans(api, "tr-" + trace)} == {"run", "step-renamed"}


def test_usage_is_not_counted_twice_when_a_parent_rolls_it_up(api: Any, exp: str) -> None:
    trace, root, mid, leaf = _hex(16), _hex(8), _hex(8), _hex(8)

    def usage(n: int) -> dict[str, Any]:
        return {"mlflow.chat.tokenUsage": _s(json.dumps(
            {"input_tokens": n, "output_tokens": n, "total_tokens": 2 * n}))}

    body = _export(_span(trace, root, "root"),
                   _span(trace, mid, "rollup", parent=root, attrs=usage(5)),
                   _span(trace, leaf, "llm", parent=mid, attrs=usage(5)),
                   _span(trace, _hex(8), "other-llm", parent=root, attrs=usage(1)))
    assert _post(api, body, exp).status_code == 200
    usage_seen = json.loads(_info(api, "tr-" + trace)["trace_metadata"]["mlflow.trace.tokenUsage"])
    assert usage_seen == {"input_tokens": 6, "output_tokens": 6, "total_tokens": 12}


def test_a_trace_the_client_finalized_keeps_what_it_said(api: Any, exp: str) -> None:
    trace, root = _hex(16), _hex(8)
    trace_id = "tr-" + trace
    api.ok("POST", f"{V3}/traces", {"trace": {"trace_info": {
        "trace_id": trace_id, "request_time": "2026-12-03T10:00:00Z", "state": "OK",
        "execution_duration": "1.5s", "request_preview": "from the client",
        "trace_location": {"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": exp}}}}})
    assert _post(api, _export(_span(trace, root, "r", code=2, attrs={
        "mlflow.spanInputs": _s('"from spans"')})), exp).status_code == 200
    info = _info(api, trace_id)
    assert info["state"] == "OK" and info["request_preview"] == "from the client"
    assert info["execution_duration"] in ("1.5s", "1.500s")
    assert info["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert [s["name"] for s in _spans(api, trace_id)] == ["r"]


def test_run_header_links_finished_traces(api: Any, exp: str) -> None:
    run_id = api.new_run(exp)
    trace = _hex(16)
    assert _post(api, _export(_span(trace, _hex(8), "r")), exp, run=run_id).status_code == 200
    found = api.ok("POST", f"{V3}/traces/search", {
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}],
        "filter": f"trace.run_id = '{run_id}'"})
    assert [t["trace_id"] for t in found["traces"]] == ["tr-" + trace]


def _refused(resp: Any, status: int, code: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    if code:
        assert body["error_code"] == code
    return str(body.get("message"))


def test_bad_exports(api: Any, exp: str) -> None:
    good = _export(_span(_hex(16), _hex(8), "r"))
    assert "Content-Type" in _refused(_post(api, good, exp, content_type="text/plain"), 400,
                                      "INVALID_PARAMETER_VALUE")
    assert "x-mlflow-experiment-id" in _refused(_post(api, good, None), 400,
                                                "INVALID_PARAMETER_VALUE")
    assert "abc" in _refused(_post(api, good, "abc"), 400, "INVALID_PARAMETER_VALUE")
    _refused(_post(api, good, "987654321"), 404, "RESOURCE_DOES_NOT_EXIST")
    _refused(_post(api, b"garbage!!", exp, content_type="application/x-protobuf"), 400,
             "INVALID_PARAMETER_VALUE")
    _refused(_post(api, b"{not json", exp), 400, "INVALID_PARAMETER_VALUE")
    assert "no spans" in _refused(_post(api, {"resourceSpans": []}, exp), 400)
    _refused(_post(api, b"", exp, content_type="application/x-protobuf"), 400)
    _refused(_post(api, _export({"spanId": _hex(8), "name": "no trace id"}), exp), 400,
             "INVALID_PARAMETER_VALUE")
    _refused(_post(api, _export(_span("zz" * 16, _hex(8), "bad hex")), exp), 400)
    assert "br" in _refused(api.client.request("POST", "/v1/traces", content=b"x", headers={
        "Content-Type": "application/json", "Content-Encoding": "br",
        "x-mlflow-experiment-id": exp}), 400)
    _refused(api.client.request("POST", "/v1/traces", content=b"not gzip", headers={
        "Content-Type": "application/json", "Content-Encoding": "gzip",
        "x-mlflow-experiment-id": exp}), 400, "INVALID_PARAMETER_VALUE")


def test_nothing_half_written(api: Any, exp: str) -> None:
    """A trace of another experiment in the batch refuses the whole batch."""
    other = api.new_experiment(f"otlp-other-{uuid.uuid4().hex[:8]}")
    taken = _hex(16)
    assert _post(api, _export(_span(taken, _hex(8), "r")), other).status_code == 200
    fresh = _hex(16)
    resp = _post(api, _export(_span(fresh, _hex(8), "new"), _span(taken, _hex(8), "steal")),
                 exp)
    assert "another experiment" in _refused(resp, 400, "INVALID_PARAMETER_VALUE")
    status, _ = api.get(f"{V3}/traces/tr-{fresh}")
    assert status == 404
    assert [s["name"] for s in _spans(api, "tr-" + taken)] == ["r"]


def _whole_trace(trace: str, root: str) -> dict[str, Any]:
    """A trace as a collector sends it: root and children in one export, with everything a
    trace takes from its spans (tags, previews, usage, session, user, resource, a model)."""
    return _export(
        _span(trace, root, "agent", attrs={
            "mlflow.spanType": _s('"AGENT"'), "mlflow.spanInputs": _s('{"q": "hi"}'),
            "mlflow.spanOutputs": _s('"HI"'), "mlflow.traceTag.team": _s('"search"'),
            "session.id": _s("s-1"), "user.id": _s("u-9")}),
        _span(trace, "0" * 15 + "1", "llm", parent=root, start=T0 + 1_000_000,
              end=T0 + 30_000_000, attrs={
                  "mlflow.spanType": _s('"LLM"'), "mlflow.llm.model": _s('"gpt-x"'),
                  "mlflow.llm.cost": _s('{"input_cost": 0.5, "total_cost": 0.75}'),
                  "mlflow.chat.tokenUsage": _s(json.dumps(
                      {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}))}),
        _span(trace, "0" * 15 + "2", "tool", parent=root, start=T0 + 2_000_000, end=None),
        resource={"service.name": _s("svc")})


def _as_stored(api: Any, trace_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A trace's info and spans as served, with what differs between two traces of the same
    content (their ids, the artifact location naming the id) taken out."""
    info = dict(_info(api, trace_id))
    short = trace_id[len("tr-"):]
    text = json.dumps([info, _spans(api, trace_id)], sort_keys=True)
    text = text.replace(trace_id, "TRACE").replace(short, "HEX")
    text = text.replace(base64.b64encode(bytes.fromhex(short)).decode(), "B64")
    out_info, spans = json.loads(text)
    out_info.pop("request_time", None)
    return out_info, spans


def test_whole_traces_are_stored_as_the_general_path_stores_them(api: Any, exp: str) -> None:
    """After an experiment's first export, a new trace that comes whole (root and children in
    one export) is written by one guarded statement (trackd.store.trace_ingest): same stored
    trace as the general path, and the general path's answers when the guard does not hold."""
    first, second, root = _hex(16), _hex(16), "0" * 15 + "a"
    assert _post(api, _whole_trace(first, root), exp).status_code == 200  # general path
    assert _post(api, _whole_trace(second, root), exp).status_code == 200  # whole-trace path
    assert _as_stored(api, "tr-" + second) == _as_stored(api, "tr-" + first)
    info = _info(api, "tr-" + second)
    assert info["state"] == "OK" and info["tags"]["team"] == "search"
    assert json.loads(info["trace_metadata"]["mlflow.trace.tokenUsage"])["total_tokens"] == 7
    assert len(_spans(api, "tr-" + second)) == 3
    # Sent again whole: the trace exists, so its spans are replaced, as before.
    again = _whole_trace(second, root)
    again["resourceSpans"][0]["scopeSpans"][0]["spans"][2]["name"] = "tool-renamed"
    assert _post(api, again, exp).status_code == 200
    assert {s["name"] for s in _spans(api, "tr-" + second)} == {"agent", "llm", "tool-renamed"}
    # A whole trace whose id another experiment holds: refused, nothing written.
    other = api.new_experiment(f"otlp-other-{uuid.uuid4().hex[:8]}")
    assert _post(api, _whole_trace(_hex(16), root), other).status_code == 200
    fresh = _hex(16)
    body = _whole_trace(fresh, root)
    body["resourceSpans"].append(_whole_trace(second, root)["resourceSpans"][0])
    assert "another experiment" in _refused(_post(api, body, other), 400,
                                            "INVALID_PARAMETER_VALUE")
    assert api.get(f"{V3}/traces/tr-{fresh}")[0] == 404
    # The experiment deleted after it was seen active: refused as before, nothing written.
    api.ok("POST", "experiments/delete", {"experiment_id": exp})
    late = _hex(16)
    assert "active" in _refused(_post(api, _whole_trace(late, root), exp), 400,
                                "INVALID_PARAMETER_VALUE")
    assert api.get(f"{V3}/traces/tr-{late}")[0] == 404
    api.ok("POST", "experiments/restore", {"experiment_id": exp})
    assert _post(api, _whole_trace(late, root), exp).status_code == 200
    assert len(_spans(api, "tr-" + late)) == 3
