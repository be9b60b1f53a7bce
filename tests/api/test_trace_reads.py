"""Reading traces back with their spans (``traces/get``, ``batchGet``, the trace artifact) in
process, on each database: span order, attributes shared by many spans, assessments."""

from __future__ import annotations

import json
import uuid
from typing import Any

from support.otlp_json import post_spans

V3 = "/api/3.0/mlflow"
T0 = 1_796_357_957_013_667_814  # ns


def _hex(n: int) -> str:
    return uuid.uuid4().hex[: n * 2]


def _span(trace: str, span: str, name: str, start: int, attrs: dict[str, str]) -> dict[str, Any]:
    return {"traceId": trace, "spanId": span, "name": name, "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + 5_000), "status": {"code": 1},
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}


def _post(api: Any, experiment: str, *spans: dict[str, Any]) -> None:
    post_spans(api.client, experiment, spans)


def test_spans_come_back_in_start_then_span_id_order(api: Any) -> None:
    exp = api.new_experiment(f"reads-{uuid.uuid4().hex[:8]}")
    trace = _hex(16)
    # Sent out of order; three start in the same nanosecond (their span ids decide).
    ids = ["00000000000000f3", "00000000000000a1", "00000000000000c2", "0000000000000001"]
    starts = [T0 + 10, T0 + 10, T0 + 10, T0]
    _post(api, exp, *(_span(trace, i, f"s-{i}", s, {}) for i, s in zip(ids, starts, strict=True)))
    spans = api.ok("GET", f"{V3}/traces/get", {"trace_id": "tr-" + trace})["trace"]["spans"]
    assert [s["name"] for s in spans] == ["s-0000000000000001", "s-00000000000000a1",
                                          "s-00000000000000c2", "s-00000000000000f3"]
    # The trace artifact keeps the same order.
    resp = api.client.request("GET", "/ajax-api/2.0/mlflow/get-trace-artifact",
                              params={"request_id": "tr-" + trace})
    assert resp.status_code == 200, resp.text
    assert [s["name"] for s in json.loads(resp.text)["spans"]] == [s["name"] for s in spans]


def test_attributes_repeated_across_spans_and_traces(api: Any) -> None:
    exp = api.new_experiment(f"reads-{uuid.uuid4().hex[:8]}")
    traces = [_hex(16) for _ in range(3)]
    shared = {"mlflow.spanType": '"LLM"', "mlflow.spanInputs": '{"q": [1, 2.5, true, null]}',
              "plain": "not json {"}
    for n, trace in enumerate(traces):
        _post(api, exp, *(_span(trace, _hex(8), f"s{k}", T0 + k,
                                {**shared, "mlflow.spanOutputs": json.dumps({"n": n, "k": k})})
                          for k in range(3)))
    found = api.ok("GET", f"{V3}/traces/batchGet",
                   {"trace_ids": ["tr-" + t for t in traces]})["traces"]
    assert [t["trace_info"]["trace_id"] for t in found] == ["tr-" + t for t in traces]
    for n, trace in enumerate(found):
        assert [s["name"] for s in trace["spans"]] == ["s0", "s1", "s2"]
        for k, span in enumerate(trace["spans"]):
            attrs = {a["key"]: a["value"] for a in span["attributes"]}
            assert attrs["mlflow.spanType"] == {"string_value": "LLM"}
            assert attrs["mlflow.spanInputs"] == {"kvlist_value": {"values": [
                {"key": "q", "value": {"array_value": {"values": [
                    {"int_value": "1"}, {"double_value": 2.5}, {"bool_value": True}, {}]}}}]}}
            assert attrs["plain"] == {"string_value": "not json {"}
            assert attrs["mlflow.spanOutputs"] == {"kvlist_value": {"values": [
                {"key": "n", "value": {"int_value": str(n)}},
                {"key": "k", "value": {"int_value": str(k)}}]}}
            assert attrs["mlflow.traceRequestId"] == {"string_value": "tr-" + traces[n]}


def test_read_traces_carry_their_assessments(api: Any) -> None:
    exp = api.new_experiment(f"reads-{uuid.uuid4().hex[:8]}")
    traces = [_hex(16) for _ in range(2)]
    for trace in traces:
        _post(api, exp, _span(trace, _hex(8), "root", T0, {}))
    for name in ("first", "second"):
        api.ok("POST", f"{V3}/traces/tr-{traces[1]}/assessments", {"assessment": {
            "trace_id": "tr-" + traces[1], "assessment_name": name,
            "source": {"source_type": "HUMAN", "source_id": "me"},
            "feedback": {"value": True}}})
    found = api.ok("GET", f"{V3}/traces/batchGet",
                   {"trace_ids": ["tr-" + t for t in traces]})["traces"]
    assert [len(t["trace_info"].get("assessments", [])) for t in found] == [0, 2]
    assert [a["assessment_name"] for a in found[1]["trace_info"]["assessments"]] == [
        "first", "second"]
    one = api.ok("GET", f"{V3}/traces/get", {"trace_id": "tr-" + traces[1]})["trace"]
    assert one["trace_info"]["assessments"] == found[1]["trace_info"]["assessments"]
