"""Trace routes in-process on every database: shapes, bad input and MLflow's error codes.

What the official client does with them is in tests/compat/test_traces.py; this file covers
what a client would not send.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from support.answers import expect_error as _error

V3 = "/api/3.0/mlflow"


def _trace_id() -> str:
    return "tr-" + uuid.uuid4().hex


def _info(experiment_id: str, trace_id: str, **extra: Any) -> dict[str, Any]:
    return {"trace_id": trace_id,
            "trace_location": {"type": "MLFLOW_EXPERIMENT",
                               "mlflow_experiment": {"experiment_id": experiment_id}},
            "request_time": "2026-12-03T23:56:01.579Z", "execution_duration": "1.500s",
            "state": "OK", "tags": {"mlflow.traceName": "t", "k": "v"},
            "trace_metadata": {"mlflow.trace.tokenUsage":
                               '{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}'},
            "request_preview": "in", "response_preview": "out", **extra}


def _start(api: Any, info: Any) -> tuple[int, Any]:
    return api.post(f"{V3}/traces", {"trace": {"trace_info": info}})


def test_start_get_and_retry(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    trace_id = _trace_id()
    status, body = _start(api, _info(exp, trace_id))
    assert status == 200, body
    info = body["trace"]["trace_info"]
    assert info["request_time"] == "2026-12-03T23:56:01.579Z"
    assert info["execution_duration"] == "1.500s"
    assert info["tags"]["mlflow.traceName"] == "t"
    assert info["tags"]["mlflow.artifactLocation"].endswith(f"/traces/{trace_id}/artifacts")
    assert info["trace_metadata"]["mlflow.trace.infoFinalized"] == "true"
    assert '"total_tokens": 7' in info["trace_metadata"]["mlflow.trace.tokenUsage"]
    got = api.ok("GET", f"{V3}/traces/{trace_id}")["trace"]["trace_info"]
    assert got == info
    # A retried start is the same trace again (mlflow server's rule), not an error.
    status, again = _start(api, _info(exp, trace_id, state="ERROR"))
    assert status == 200, again
    assert again["trace"]["trace_info"]["state"] == "ERROR"
    other = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    _error(_start(api, _info(other, trace_id)), 400, "INVALID_PARAMETER_VALUE")


def test_bad_starts(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    _error(api.post(f"{V3}/traces", {}), 400, "INVALID_PARAMETER_VALUE")
    _error(_start(api, "nope"), 400, "INVALID_PARAMETER_VALUE")
    _error(_start(api, _info(exp, "")), 400, "INVALID_PARAMETER_VALUE")
    _error(_start(api, _info("123456", _trace_id())), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(_start(api, _info(exp, _trace_id(), state="DONE")), 400, "INVALID_PARAMETER_VALUE")
    _error(_start(api, _info(exp, _trace_id(), request_time="yesterday")), 400,
           "INVALID_PARAMETER_VALUE")
    _error(_start(api, _info(exp, _trace_id(), execution_duration="fast")), 400,
           "INVALID_PARAMETER_VALUE")
    _error(_start(api, _info(exp, _trace_id(), tags={"k": 1})), 400, "INVALID_PARAMETER_VALUE")
    bad_location = _info(exp, _trace_id(), trace_location={"type": "UC_SCHEMA"})
    _error(_start(api, bad_location), 400, "INVALID_PARAMETER_VALUE")


def test_unknown_traces(api: Any) -> None:
    missing = _trace_id()
    _error(api.get(f"{V3}/traces/{missing}"), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(api.get(f"{V3}/traces/get", {"trace_id": missing}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert api.ok("GET", f"{V3}/traces/batchGet", {"trace_ids": [missing]}) == {"traces": []}
    _error(api.call("PATCH", f"{V3}/traces/{missing}/tags", {"key": "k", "value": "v"}), 404,
           "RESOURCE_DOES_NOT_EXIST")


def test_an_edited_page_token_is_refused(api: Any) -> None:
    """A page token is base64 JSON a client can edit: an offset that is not a small enough
    whole number is the caller's error, never a server error (found by the fuzz test)."""
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    for _ in range(2):
        _start(api, _info(exp, _trace_id()))
    search = f"{V3}/traces/search"
    token = api.ok("POST", search, {"experiment_ids": [exp], "max_results": 1})["next_page_token"]
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for offset in ("a", -1, 2**63, 1.5, None, True):
        edited = base64.urlsafe_b64encode(json.dumps({**payload, "offset": offset}).encode())
        _error(api.post(search, {"experiment_ids": [exp], "page_token": edited.decode()}), 400,
               "INVALID_PARAMETER_VALUE")


def test_search_errors_and_paging(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    ids = [_trace_id() for _ in range(3)]
    for i, trace_id in enumerate(ids):
        _start(api, _info(exp, trace_id, request_time=f"2026-12-03T23:56:0{i}Z"))
    search = f"{V3}/traces/search"
    first = api.ok("POST", search, {"experiment_ids": [exp], "max_results": 2})
    assert [t["trace_id"] for t in first["traces"]] == [ids[2], ids[1]]
    rest = api.ok("POST", search, {"experiment_ids": [exp], "max_results": 2,
                                   "page_token": first["next_page_token"]})
    assert [t["trace_id"] for t in rest["traces"]] == [ids[0]] and "next_page_token" not in rest
    _error(api.post(search, {}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.post(search, {"experiment_ids": [exp], "filter": "trace.status >>> 'x'"}), 400,
           "INVALID_PARAMETER_VALUE")
    _error(api.post(search, {"experiment_ids": [exp], "filter": "span.foo = 'x'"}), 400,
           "INVALID_PARAMETER_VALUE")
    _error(api.post(search, {"experiment_ids": [exp], "max_results": 0}), 400,
           "INVALID_PARAMETER_VALUE")
    _error(api.post(search, {"experiment_ids": [exp], "page_token": "garbage"}), 400,
           "INVALID_PARAMETER_VALUE")
    _error(api.post(search, {"experiment_ids": [exp], "order_by": ["metrics.x"]}), 400,
           "INVALID_PARAMETER_VALUE")
    _error(api.post(search, {"locations": [{"type": "UC"}]}), 400, "INVALID_PARAMETER_VALUE")
    found = api.ok("POST", search, {"experiment_ids": [exp],
                                    "filter": "trace.timestamp_ms > 0 AND tags.k = 'v' AND "
                                              "trace.name = 't' AND metadata.x IS NULL",
                                    "order_by": ["timestamp_ms ASC"]})
    assert [t["trace_id"] for t in found["traces"]] == ids


def test_tags_and_deletion_errors(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    trace_id = _trace_id()
    _start(api, _info(exp, trace_id))
    tags = f"/api/2.0/mlflow/traces/{trace_id}/tags"
    _error(api.call("DELETE", tags, {"key": "absent"}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(api.call("PATCH", tags, {"value": "v"}), 400, "INVALID_PARAMETER_VALUE")
    delete = "/api/2.0/mlflow/traces/delete-traces"
    assert "must be specified" in _error(api.post(delete, {"experiment_id": exp}), 400,
                                         "INVALID_PARAMETER_VALUE")
    _error(api.post(delete, {"experiment_id": exp, "request_ids": [trace_id],
                             "max_timestamp_millis": 1}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.post(delete, {"experiment_id": exp, "max_timestamp_millis": 1, "max_traces": 0}),
           400, "INVALID_PARAMETER_VALUE")
    assert api.ok("POST", delete, {"experiment_id": exp, "request_ids": [trace_id]}) == {
        "traces_deleted": 1}


def test_trace_spans_come_from_the_traces_own_location(api: Any) -> None:
    """get-trace-artifact reads the trace's traces.json where both servers put it, from the
    experiment's location: never from the mlflow.artifactLocation tag, which anyone who may
    edit the trace can change (pointing it at another experiment's trace would read that)."""
    mine, theirs = (api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}") for _ in range(2))
    my_trace, their_trace = _trace_id(), _trace_id()
    for exp, trace_id, text in ((mine, my_trace, "mine"), (theirs, their_trace, "secret")):
        _start(api, _info(exp, trace_id))
        put = api.client.request(
            "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/traces/{trace_id}/artifacts/"
            "traces.json", content=json.dumps({"spans": [{"name": text}]}).encode())
        assert put.status_code == 200, put.text
    api.ok("PATCH", f"{V3}/traces/{my_trace}/tags", {
        "key": "mlflow.artifactLocation",
        "value": f"mlflow-artifacts:/{theirs}/traces/{their_trace}/artifacts"})
    got = api.client.get(f"{V3}/get-trace-artifact", params={"request_id": my_trace})
    assert got.status_code == 200, got.text
    assert "mine" in got.text and "secret" not in got.text
    missing = api.client.get(f"{V3}/get-trace-artifact", params={"request_id": _trace_id()})
    assert missing.status_code == 404


def test_batch_get_infos_and_links(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    run_id = api.new_run(exp)
    ids = [_trace_id(), _trace_id()]
    for trace_id in ids:
        _start(api, _info(exp, trace_id))
    got = api.ok("POST", f"{V3}/traces/batchGetInfos", {"trace_ids": [ids[1], _trace_id(),
                                                                       ids[0]]})
    assert [t["trace_id"] for t in got["trace_infos"]] == [ids[1], ids[0]]
    link = "/api/2.0/mlflow/traces/link-to-run"
    api.ok("POST", link, {"trace_ids": [ids[0], _trace_id()], "run_id": run_id})
    api.ok("POST", link, {"trace_ids": [ids[0]], "run_id": run_id})  # again: no duplicate
    found = api.ok("POST", f"{V3}/traces/search", {"experiment_ids": [exp],
                                                   "filter": f"trace.run_id = '{run_id}'"})
    assert [t["trace_id"] for t in found["traces"]] == [ids[0]]
    _error(api.post(link, {"trace_ids": [ids[0]], "run_id": "f" * 32}), 404,
           "RESOURCE_DOES_NOT_EXIST")


def test_long_keys_are_refused_and_long_values_cut(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    _error(_start(api, _info(exp, _trace_id(), tags={"k" * 251: "v"})), 400,
           "INVALID_PARAMETER_VALUE")
    trace_id = _trace_id()
    status, body = _start(api, _info(exp, trace_id, tags={"long": "x" * 9000},
                                     trace_metadata={"m": "y" * 9000}))
    assert status == 200, body
    info = body["trace"]["trace_info"]
    assert len(info["tags"]["long"]) == 8000 and len(info["trace_metadata"]["m"]) == 8000
    api.ok("PATCH", f"{V3}/traces/{trace_id}/tags", {"key": "long", "value": "z" * 9000})
    again = api.ok("GET", f"{V3}/traces/{trace_id}")["trace"]["trace_info"]
    assert len(again["tags"]["long"]) == 8000
    _error(api.call("PATCH", f"{V3}/traces/{trace_id}/tags", {"key": "k" * 251, "value": "v"}),
           400, "INVALID_PARAMETER_VALUE")


def test_bad_assessments(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    trace_id = _trace_id()
    _start(api, _info(exp, trace_id))
    path = f"{V3}/traces/{trace_id}/assessments"
    good = {"assessment_name": "q", "feedback": {"value": 1}}
    for bad in ({}, {"feedback": {"value": 1}}, {"assessment_name": "q"},
                {**good, "expectation": {"value": 1}},
                {"assessment_name": "q", "feedback": {}},
                {**good, "source": {"source_type": "ROBOT"}},
                {**good, "source": {"source_type": "HUMAN", "source_id": "s" * 251}},
                {**good, "overrides": "a-" + "0" * 60}):
        _error(api.post(path, {"assessment": bad}), 400, "INVALID_PARAMETER_VALUE")
    _error(api.post(path, {"assessment": {**good, "overrides": "a-missing"}}), 404,
           "RESOURCE_DOES_NOT_EXIST")
    _error(api.post(f"{V3}/traces/{_trace_id()}/assessments", {"assessment": good}), 404,
           "RESOURCE_DOES_NOT_EXIST")
    made = api.ok("POST", path, {"assessment": good})["assessment"]
    one = f"{path}/{made['assessment_id']}"
    _error(api.call("PATCH", one, {"assessment": {"expectation": {"value": 2}},
                                   "update_mask": "expectation"}), 400,
           "INVALID_PARAMETER_VALUE")
    _error(api.call("PATCH", one, {"assessment": {}, "update_mask": "nonsense"}), 400,
           "INVALID_PARAMETER_VALUE")
    assert api.call("DELETE", f"{path}/a-unknown")[0] == 200  # MLflow: deleting nothing is fine


def test_link_prompts_bad_input_and_repeats(api: Any) -> None:
    exp = api.new_experiment(f"tr-{uuid.uuid4().hex[:8]}")
    trace_id = _trace_id()
    _start(api, _info(exp, trace_id))
    url = "/api/2.0/mlflow/traces/link-prompts"
    body = {"trace_id": trace_id, "prompt_versions": [{"name": "qa", "version": "1"}]}
    assert api.ok("POST", url, body) == {}
    assert api.ok("POST", url, body) == {}  # linking again changes nothing
    found = api.ok("POST", f"{V3}/traces/search", {
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}],
        "filter": "prompt = 'qa/1'"})
    assert [t["trace_id"] for t in found["traces"]] == [trace_id]
    _error(api.post(url, {**body, "trace_id": _trace_id()}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(api.post(url, {"trace_id": trace_id}), 400, "INVALID_PARAMETER_VALUE")
    for bad in ([{"name": "qa"}], [{"name": "qa", "version": "x"}], [{"version": "1"}],
                [{"name": "q" * 40, "version": "1"}], ["qa/1"]):
        _error(api.post(url, {"trace_id": trace_id, "prompt_versions": bad}), 400,
               "INVALID_PARAMETER_VALUE")
