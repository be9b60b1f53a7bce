"""MLflow's deprecated v2 trace routes in-process on every database: shapes, merges, bad input.

The 2.x client's own use of them is in tests/compat/client2x/tracing.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from support.answers import expect_error as _error

V2 = "/api/2.0/mlflow"
V3 = "/api/3.0/mlflow"


def _pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def _as_dict(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {p["key"]: p["value"] for p in pairs or []}


def _experiment(api: Any) -> str:
    return str(api.new_experiment(f"v2tr-{uuid.uuid4().hex[:8]}"))


def _start(api: Any, exp: str, **fields: Any) -> dict[str, Any]:
    body = {"experiment_id": exp, "timestamp_ms": 1_700_000_000_123, **fields}
    return dict(api.ok("POST", f"{V2}/traces", body)["trace_info"])


def test_start_end_and_read_back(api: Any) -> None:
    exp = _experiment(api)
    info = _start(api, exp, request_metadata=_pairs({"mlflow.traceInputs": '{"x": 1}',
                                                     "mlflow.trace.session": "s1"}),
                  tags=_pairs({"t1": "v1", "mlflow.traceName": "fn",
                               "mlflow.artifactLocation": "/elsewhere"}))
    rid = info["request_id"]
    assert len(rid) == 32 and int(rid, 16) >= 0  # mlflow server's v2 ids: 32 hex digits
    assert info["experiment_id"] == exp
    assert info["timestamp_ms"] == 1_700_000_000_123
    assert info["execution_time_ms"] == 0
    assert info["status"] == "IN_PROGRESS"
    assert _as_dict(info["request_metadata"]) == {"mlflow.traceInputs": '{"x": 1}',
                                                  "mlflow.trace.session": "s1"}
    tags = _as_dict(info["tags"])
    assert tags["t1"] == "v1" and tags["mlflow.traceName"] == "fn"
    # The server sets the artifact location; a client's value is dropped.
    assert tags["mlflow.artifactLocation"].endswith(f"/{exp}/traces/{rid}/artifacts")
    assert api.ok("GET", f"{V2}/traces/{rid}/info")["trace_info"] == info

    usage = '{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}'
    ended = api.ok("PATCH", f"{V2}/traces/{rid}", {
        "timestamp_ms": 1_700_000_000_456, "status": "OK",
        "request_metadata": _pairs({"mlflow.traceOutputs": "2", "mlflow.trace.tokenUsage": usage}),
        "tags": _pairs({"t2": "v2", "mlflow.traceName": "renamed",
                        "mlflow.artifactLocation": "/elsewhere"})})["trace_info"]
    assert ended["execution_time_ms"] == 333
    assert ended["status"] == "OK"
    metadata = _as_dict(ended["request_metadata"])
    assert metadata["mlflow.traceInputs"] == '{"x": 1}'  # merged, not replaced
    assert metadata["mlflow.traceOutputs"] == "2"
    assert '"total_tokens": 7' in metadata["mlflow.trace.tokenUsage"]
    tags = _as_dict(ended["tags"])
    assert tags["t1"] == "v1" and tags["t2"] == "v2" and tags["mlflow.traceName"] == "renamed"
    assert tags["mlflow.artifactLocation"].endswith(f"/traces/{rid}/artifacts")

    # The same trace through the v3 routes.
    v3 = api.ok("GET", f"{V3}/traces/{rid}")["trace"]["trace_info"]
    assert v3["trace_id"] == rid and v3["state"] == "OK"
    assert v3["request_time"] == "2023-11-14T22:13:20.123Z"
    assert v3["execution_duration"] == "0.333s"
    assert v3["tags"]["mlflow.traceName"] == "renamed"
    # Status given as its proto number (2 = ERROR), as a JSON client may send it.
    again = api.ok("PATCH", f"{V2}/traces/{rid}", {"timestamp_ms": 1_700_000_000_500,
                                                   "status": 2})["trace_info"]
    assert again["status"] == "ERROR" and again["execution_time_ms"] == 377


def test_v3_trace_in_v2_shape(api: Any) -> None:
    exp = _experiment(api)
    trace_id = "tr-" + uuid.uuid4().hex
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}
    api.ok("POST", f"{V3}/traces", {"trace": {"trace_info": {
        "trace_id": trace_id,
        "trace_location": location,
        "request_time": "2026-12-03T23:56:01.579Z", "execution_duration": "1.500s",
        "state": "STATE_UNSPECIFIED", "tags": {"k": "v"}, "request_preview": "in"}}})
    info = api.ok("GET", f"{V2}/traces/{trace_id}/info")["trace_info"]
    assert info["request_id"] == trace_id
    assert info["timestamp_ms"] == 1_796_342_161_579
    assert info["execution_time_ms"] == 1500
    assert info["status"] == "TRACE_STATUS_UNSPECIFIED"
    assert "request_preview" not in info and "trace_location" not in info
    assert _as_dict(info["tags"])["k"] == "v"


def test_search(api: Any) -> None:
    exp = _experiment(api)
    ids = []
    for i in range(3):
        rid = _start(api, exp, timestamp_ms=1000 + i, tags=_pairs({"n": str(i)}))["request_id"]
        ids.append(rid)
    api.ok("PATCH", f"{V2}/traces/{ids[1]}", {"timestamp_ms": 2000, "status": "ERROR"})
    found = api.ok("GET", f"{V2}/traces", {"experiment_ids": exp})
    assert [t["request_id"] for t in found["traces"]] == ids[::-1]  # newest first
    assert "next_page_token" not in found
    errors = api.ok("GET", f"{V2}/traces", {"experiment_ids": exp, "filter": "status = 'ERROR'"})
    assert [t["request_id"] for t in errors["traces"]] == [ids[1]]
    assert errors["traces"][0]["execution_time_ms"] == 999
    tagged = api.ok("GET", f"{V2}/traces", {"experiment_ids": exp, "filter": "tags.n = '2'"})
    assert [t["request_id"] for t in tagged["traces"]] == [ids[2]]
    first = api.ok("GET", f"{V2}/traces", {"experiment_ids": exp, "max_results": 2,
                                           "order_by": "timestamp_ms ASC"})
    assert [t["request_id"] for t in first["traces"]] == ids[:2]
    rest = api.ok("GET", f"{V2}/traces", {"experiment_ids": exp, "max_results": 2,
                                          "order_by": "timestamp_ms ASC",
                                          "page_token": first["next_page_token"]})
    assert [t["request_id"] for t in rest["traces"]] == ids[2:]
    assert "next_page_token" not in rest
    # The ajax prefix serves the same routes (the web UI's).
    via_ajax = api.ok("GET", "/ajax-api/2.0/mlflow/traces", {"experiment_ids": exp})
    assert via_ajax == found
    assert api.ok("GET", f"{V2}/traces", {"experiment_ids": "987654"}) == {}


def test_bad_starts(api: Any) -> None:
    exp = _experiment(api)
    url = f"{V2}/traces"
    assert "experiment_id" in _error(api.post(url, {"timestamp_ms": 1}), 400,
                                     "INVALID_PARAMETER_VALUE")
    _error(api.post(url, {"experiment_id": "987654"}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(api.post(url, {"experiment_id": "abc"}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.post(url, {"experiment_id": int(exp)}), 400, "INVALID_PARAMETER_VALUE")
    msg = _error(api.post(url, {"experiment_id": exp, "timestamp_ms": "x"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert "timestamp_ms" in msg
    for field in ("request_metadata", "tags"):
        for bad in ({"a": "b"}, [{"value": "b"}], [{"key": "a", "value": 3}], ["a"]):
            msg = _error(api.post(url, {"experiment_id": exp, field: bad}), 400,
                         "INVALID_PARAMETER_VALUE")
            assert field in msg, msg
    long_key = [{"key": "k" * 300, "value": "v"}]
    _error(api.post(url, {"experiment_id": exp, "tags": long_key}), 400,
           "INVALID_PARAMETER_VALUE")
    long_name = [{"key": "mlflow.traceName", "value": "n" * 5000}]
    assert "Trace name" in _error(api.post(url, {"experiment_id": exp, "tags": long_name}), 400,
                                  "INVALID_PARAMETER_VALUE")
    api.ok("POST", "experiments/delete", {"experiment_id": exp})
    _error(api.post(url, {"experiment_id": exp}), 400, "INVALID_PARAMETER_VALUE")
    # Nothing was written by the refused starts.
    api.ok("POST", "experiments/restore", {"experiment_id": exp})
    assert api.ok("GET", url, {"experiment_ids": exp}) == {}


def test_bad_ends(api: Any) -> None:
    exp = _experiment(api)
    rid = _start(api, exp, tags=_pairs({"keep": "1"}))["request_id"]
    url = f"{V2}/traces/{rid}"
    msg = _error(api.call("PATCH", f"{V2}/traces/tr-unknown", {"timestamp_ms": 5, "status": "OK"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert "tr-unknown" in msg
    for status in (None, "NOPE", "TRACE_STATUS_UNSPECIFIED", 0, 9, True):
        body = {"timestamp_ms": 5} if status is None else {"timestamp_ms": 5, "status": status}
        assert "status" in _error(api.call("PATCH", url, body), 400, "INVALID_PARAMETER_VALUE")
    assert "timestamp_ms" in _error(api.call("PATCH", url, {"timestamp_ms": "x"}), 400,
                                    "INVALID_PARAMETER_VALUE")
    # A refused end leaves the trace as it was: no status, tag or metadata half-written.
    bad = {"timestamp_ms": 5, "status": "OK", "request_metadata": _pairs({"m": "1"}),
           "tags": [{"key": "fine", "value": "x"}, {"key": "k" * 300, "value": "v"}]}
    _error(api.call("PATCH", url, bad), 400, "INVALID_PARAMETER_VALUE")
    info = api.ok("GET", f"{url}/info")["trace_info"]
    assert info["status"] == "IN_PROGRESS" and "request_metadata" not in info
    assert set(_as_dict(info["tags"])) == {"keep", "mlflow.artifactLocation"}


def test_bad_searches_and_reads(api: Any) -> None:
    exp = _experiment(api)
    url = f"{V2}/traces"
    assert "experiment_ids" in _error(api.get(url), 400, "INVALID_PARAMETER_VALUE")
    for params in ({"experiment_ids": ""}, {"experiment_ids": "abc"},
                   {"experiment_ids": exp, "max_results": 501},
                   {"experiment_ids": exp, "max_results": 0},
                   {"experiment_ids": exp, "max_results": "x"},
                   {"experiment_ids": exp, "filter": "foo = 1"},
                   {"experiment_ids": exp, "order_by": "foo"},
                   {"experiment_ids": exp, "page_token": "zzz"}):
        _error(api.get(url, params), 400, "INVALID_PARAMETER_VALUE")
    _error(api.get(f"{url}/tr-unknown/info"), 404, "RESOURCE_DOES_NOT_EXIST")
    # The v2 routes are not served under 3.0, as in mlflow server.
    assert api.get(f"{V3}/traces/tr-unknown/info")[0] == 404
    assert api.call("PATCH", f"{V3}/traces/tr-unknown", {"status": "OK"})[0] == 405


def test_databricks_only_routes(api: Any) -> None:
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        for path in ("get-online-trace-details", "unified-traces"):
            response = api.client.get(f"{prefix}/{path}", params={"trace_id": "x"})
            assert response.status_code == 404
            assert response.content == b""
            assert api.post(f"{prefix}/{path}", {})[0] == 405


def test_times_beyond_what_the_api_can_write_back_are_refused(api: Any) -> None:
    """A trace stored with a time past the year 9999 broke every search listing it (the v3
    shape writes times as RFC 3339): found by the fuzz test. Refused on the way in."""
    exp = _experiment(api)
    huge, negative = 2**62, -(2**62)
    for ms in (huge, negative):
        assert "timestamp_ms" in _error(
            api.post(f"{V2}/traces", {"experiment_id": exp, "timestamp_ms": ms}), 400,
            "INVALID_PARAMETER_VALUE")
    rid = _start(api, exp)["request_id"]
    _error(api.call("PATCH", f"{V2}/traces/{rid}", {"timestamp_ms": huge, "status": "OK"}), 400,
           "INVALID_PARAMETER_VALUE")
    v3 = {"trace_id": "tr-" + "a" * 32, "request_time": huge, "state": "OK",
          "trace_location": {"type": "MLFLOW_EXPERIMENT",
                             "mlflow_experiment": {"experiment_id": exp}}}
    _error(api.post(f"{V3}/traces", {"trace": {"trace_info": v3}}), 400,
           "INVALID_PARAMETER_VALUE")
    listed = api.ok("POST", f"{V3}/traces/search", {"experiment_ids": [exp]})
    assert [t["trace_id"] for t in listed["traces"]] == [rid]
