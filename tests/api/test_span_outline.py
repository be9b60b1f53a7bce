"""trackd's own trace-page routes (``/ajax-api/3.0/trackd/traces/<id>/span-outline`` and
``.../span``), in process on each database: the outline agrees with the spans that
``get-trace-artifact`` serves, each span comes back whole, wherever the spans are kept."""

from __future__ import annotations

import json
import uuid
from typing import Any

from support.otlp_json import post_spans

V3 = "/api/3.0/mlflow"
UI = "/ajax-api/3.0/trackd/traces"
T0 = 1_796_357_957_013_667_814  # ns


def _span(trace: str, span: str, parent: str | None, name: str, start: int, status: int,
          attrs: dict[str, str]) -> dict[str, Any]:
    out = {"traceId": trace, "spanId": span, "name": name, "startTimeUnixNano": str(start),
           "endTimeUnixNano": str(start + 7_000), "status": {"code": status},
           "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}
    if parent:
        out["parentSpanId"] = parent
    return out


def _export(api: Any, experiment: str, *spans: dict[str, Any]) -> None:
    post_spans(api.client, experiment, spans)


def _start(api: Any, experiment: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    info = {"trace_id": trace_id, "request_time": "2026-06-01T00:00:00Z",
            "execution_duration": "1s", "state": "OK",
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": experiment}}}
    api.ok("POST", f"{V3}/traces", {"trace": {"trace_info": info}})
    return trace_id


def _error(resp: Any, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    assert resp.json()["error_code"] == code, resp.text
    return str(resp.json()["message"])


def test_the_outline_of_stored_spans_and_each_span_whole(api: Any) -> None:
    exp = api.new_experiment(f"outline-{uuid.uuid4().hex[:8]}")
    trace = uuid.uuid4().hex
    root, child, failed = "00000000000000aa", "00000000000000bb", "00000000000000cc"
    big_input = json.dumps({"text": "x" * 5_000})
    _export(api, exp,  # sent child first: the outline comes in start order
            _span(trace, failed, child, "tool", T0 + 30, 2, {"mlflow.spanType": '"TOOL"'}),
            _span(trace, child, root, "llm", T0 + 20, 1,
                  {"mlflow.spanType": '"LLM"', "mlflow.spanInputs": big_input}),
            _span(trace, root, None, "agent", T0, 0, {"mlflow.spanType": '"AGENT"'}))
    trace_id = "tr-" + trace
    outline = api.ok("GET", f"{UI}/{trace_id}/span-outline")
    assert outline == {"source": "database", "spans": [
        {"span_id": root, "parent_span_id": None, "name": "agent", "span_type": "AGENT",
         "status": "UNSET", "start_time_unix_nano": T0, "end_time_unix_nano": T0 + 7_000},
        {"span_id": child, "parent_span_id": root, "name": "llm", "span_type": "LLM",
         "status": "OK", "start_time_unix_nano": T0 + 20, "end_time_unix_nano": T0 + 7_020},
        {"span_id": failed, "parent_span_id": child, "name": "tool", "span_type": "TOOL",
         "status": "ERROR", "start_time_unix_nano": T0 + 30, "end_time_unix_nano": T0 + 7_030},
    ]}
    assert "x" * 100 not in json.dumps(outline)  # no payloads in the outline
    # Each span is served as get-trace-artifact serves it.
    artifact = api.client.get(f"{V3}/get-trace-artifact", params={"request_id": trace_id})
    assert artifact.status_code == 200, artifact.text
    whole = {s["name"]: s for s in json.loads(artifact.text)["spans"]}
    for span in outline["spans"]:
        got = api.ok("GET", f"{UI}/{trace_id}/span", {"span_id": span["span_id"]})
        assert got == {"span": whole[span["name"]]}
    assert json.loads(whole["llm"]["attributes"]["mlflow.spanInputs"]) == json.loads(big_input)
    # The same routes under the /ajax-api prefix only: MLflow's clients never call them.
    assert api.client.get(f"/api/3.0/trackd/traces/{trace_id}/span-outline").status_code == 404


def test_the_outline_of_a_traces_json_artifact(api: Any) -> None:
    """Spans an older client uploaded as traces.json: MLflow 3's span shape and MLflow 2's."""
    exp = api.new_experiment(f"outline-{uuid.uuid4().hex[:8]}")
    trace_id = _start(api, exp)
    v3_span = {"trace_id": "AAAA", "span_id": "cm9vdA==", "parent_span_id": None,
               "name": "root", "start_time_unix_nano": T0, "end_time_unix_nano": T0 + 10,
               "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
               "attributes": {"mlflow.spanType": '"CHAIN"', "mlflow.spanInputs": '"q"'},
               "events": []}
    v2_span = {"name": "old", "context": {"span_id": "0x01", "trace_id": "0x02"},
               "parent_id": "cm9vdA==", "start_time": str(T0 + 5), "end_time": T0 + 6,
               "status_code": "OK", "attributes": {"mlflow.spanType": "not json"}}
    put = api.client.request(
        "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/traces/{trace_id}/artifacts/"
        "traces.json", content=json.dumps({"spans": [v3_span, v2_span]}).encode())
    assert put.status_code == 200, put.text
    outline = api.ok("GET", f"{UI}/{trace_id}/span-outline")
    assert outline == {"source": "artifact", "spans": [
        {"span_id": "cm9vdA==", "parent_span_id": None, "name": "root", "span_type": "CHAIN",
         "status": "ERROR", "start_time_unix_nano": T0, "end_time_unix_nano": T0 + 10},
        {"span_id": "0x01", "parent_span_id": "cm9vdA==", "name": "old",
         "span_type": "not json", "status": "OK", "start_time_unix_nano": T0 + 5,
         "end_time_unix_nano": T0 + 6},
    ]}
    # A span id with "/" and "=" travels in the query string.
    assert api.ok("GET", f"{UI}/{trace_id}/span", {"span_id": "cm9vdA=="}) == {"span": v3_span}
    assert api.ok("GET", f"{UI}/{trace_id}/span", {"span_id": "0x01"}) == {"span": v2_span}
    message = _error(api.client.get(f"{UI}/{trace_id}/span", params={"span_id": "nope"}),
                     404, "RESOURCE_DOES_NOT_EXIST")
    assert "nope" in message and trace_id in message


def test_a_trace_without_spans_and_bad_requests(api: Any) -> None:
    exp = api.new_experiment(f"outline-{uuid.uuid4().hex[:8]}")
    trace_id = _start(api, exp)
    # No spans yet anywhere: an empty outline, as the page shows it ("no spans").
    assert api.ok("GET", f"{UI}/{trace_id}/span-outline") == {"source": "artifact", "spans": []}
    _error(api.client.get(f"{UI}/{trace_id}/span", params={"span_id": "00000000000000aa"}),
           404, "RESOURCE_DOES_NOT_EXIST")
    _error(api.client.get(f"{UI}/{trace_id}/span"), 400, "INVALID_PARAMETER_VALUE")
    unknown = "tr-" + uuid.uuid4().hex
    for path in (f"{UI}/{unknown}/span-outline", f"{UI}/{unknown}/span?span_id=aa"):
        assert unknown in _error(api.client.get(path), 404, "RESOURCE_DOES_NOT_EXIST")
    # A traces.json that is not JSON: the caller's data, not a server error.
    put = api.client.request(
        "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/traces/{trace_id}/artifacts/"
        "traces.json", content=b"{not json")
    assert put.status_code == 200, put.text
    assert "not JSON" in _error(api.client.get(f"{UI}/{trace_id}/span-outline"),
                                400, "INVALID_PARAMETER_VALUE")


def test_a_large_outline_travels_gzip_to_clients_that_accept_it(api: Any) -> None:
    exp = api.new_experiment(f"outline-{uuid.uuid4().hex[:8]}")
    trace = uuid.uuid4().hex
    _export(api, exp, *(_span(trace, f"{i + 1:016x}", None, f"s{i}", T0 + i, 1, {})
                        for i in range(800)))
    path = f"{UI}/tr-{trace}/span-outline"
    plain = api.client.get(path, headers={"Accept-Encoding": "identity"})
    packed = api.client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(plain.content) / 4
    assert packed.json() == plain.json()  # httpx undoes the gzip
    assert [s["name"] for s in plain.json()["spans"]] == [f"s{i}" for i in range(800)]
