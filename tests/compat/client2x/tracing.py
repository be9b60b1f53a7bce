"""2.x client: tracing over the v2 trace routes (start and end a trace, read its info, search).

mlflow-skinny 2.x sends ``POST /api/2.0/mlflow/traces`` when a trace's root span starts and
``PATCH /api/2.0/mlflow/traces/<request_id>`` when it ends, uploads the spans as
``traces.json`` to the trace's artifact location, and reads traces back with ``GET
/api/2.0/mlflow/traces`` (search) and ``GET /api/2.0/mlflow/traces/<request_id>/info``.

Usage: python tracing.py TRACKING_URI  (exits non-zero on the first failed check)
"""

from __future__ import annotations

import time

import mlflow
from _common import connect, expect_error, unique
from mlflow.entities.trace_status import TraceStatus

client = connect()
exp_id = client.create_experiment(unique("v2-tracing"))
mlflow.set_experiment(experiment_id=exp_id)


@mlflow.trace(name="add_numbers", attributes={"kind": "math"})
def add(a: int, b: int) -> int:
    with mlflow.start_span(name="inner") as span:
        span.set_inputs({"a": a})
        span.set_outputs({"double": 2 * a})
    return a + b


@mlflow.trace
def broken(x: int) -> int:
    raise ValueError(f"refused {x}")


started = int(time.time() * 1000)
assert add(2, 3) == 5
ok_id = mlflow.get_last_active_trace_id()
if ok_id is None:
    from opentelemetry.sdk.version import __version__ as otel_version

    raise AssertionError(
        f"the 2.x client logged no trace; with opentelemetry-sdk {otel_version} its span "
        "processor fails when a span ends (scripts/test installs opentelemetry-sdk<1.34 into "
        ".venv-mlflow2)"
    )
try:
    broken(7)
    raise AssertionError("broken() should have raised")
except ValueError:
    pass
error_id = mlflow.get_last_active_trace_id()
assert ok_id != error_id

# The info as the server stored it: GET traces/<id>/info, spans from traces.json.
trace = client.get_trace(ok_id, display=False)
info = trace.info
assert info.request_id == ok_id, info
assert info.experiment_id == exp_id, info
assert info.status == TraceStatus.OK, info.status
assert info.timestamp_ms >= started - 1000, (info.timestamp_ms, started)
assert info.execution_time_ms is not None and info.execution_time_ms >= 0, info
assert info.tags.get("mlflow.traceName") == "add_numbers", info.tags
assert info.tags.get("mlflow.artifactLocation", "").endswith(f"/traces/{ok_id}/artifacts"), info
assert '"a": 2' in info.request_metadata.get("mlflow.traceInputs", ""), info.request_metadata
assert info.request_metadata.get("mlflow.traceOutputs") == "5", info.request_metadata
names = sorted(span.name for span in trace.data.spans)
assert names == ["add_numbers", "inner"], names

failed = client.get_trace(error_id, display=False).info
assert failed.status == TraceStatus.ERROR, failed.status
assert failed.tags.get("mlflow.traceName") == "broken", failed.tags

# Search (GET traces): filters, ordering, paging.
found = client.search_traces([exp_id])
assert sorted(t.info.request_id for t in found) == sorted([ok_id, error_id]), found
assert all(t.data.spans for t in found), "search_traces should load each trace's spans"
errors = client.search_traces([exp_id], filter_string="status = 'ERROR'")
assert [t.info.request_id for t in errors] == [error_id], errors
named = client.search_traces([exp_id], filter_string="tags.`mlflow.traceName` = 'add_numbers'")
assert [t.info.request_id for t in named] == [ok_id], named
oldest = client.search_traces([exp_id], order_by=["timestamp_ms ASC"], max_results=1)
assert [t.info.request_id for t in oldest] == [ok_id], oldest
assert oldest.token, "a first page of one should carry a page token"
rest = client.search_traces([exp_id], order_by=["timestamp_ms ASC"], max_results=1,
                            page_token=oldest.token)
assert [t.info.request_id for t in rest] == [error_id], rest
assert not rest.token, rest.token

# A trace started and ended by hand, with tags at the start.
root = client.start_trace("manual", inputs={"q": "why"}, tags={"team": "blue"},
                          experiment_id=exp_id)
child = client.start_span("step", request_id=root.request_id, parent_id=root.span_id)
client.end_span(root.request_id, child.span_id, outputs={"step": 1})
client.end_trace(root.request_id, outputs={"answer": 42})
manual = client.get_trace(root.request_id, display=False)
assert manual.info.status == TraceStatus.OK, manual.info
assert manual.info.tags.get("team") == "blue", manual.info.tags
assert sorted(s.name for s in manual.data.spans) == ["manual", "step"], manual.data.spans

# Tags set and deleted afterwards, seen by search.
client.set_trace_tag(ok_id, "reviewed", "yes")
tagged = client.search_traces([exp_id], filter_string="tags.reviewed = 'yes'")
assert [t.info.request_id for t in tagged] == [ok_id], tagged
client.delete_trace_tag(ok_id, "reviewed")
assert "reviewed" not in client.get_trace(ok_id, display=False).info.tags

# Errors the client surfaces.
expect_error("RESOURCE_DOES_NOT_EXIST", client.get_trace, "tr-does-not-exist", display=False)
expect_error("INVALID_PARAMETER_VALUE", client.search_traces, [exp_id],
             filter_string="nonsense = 1")

assert client.delete_traces(exp_id, request_ids=[error_id]) == 1
left = client.search_traces([exp_id])
assert sorted(t.info.request_id for t in left) == sorted([ok_id, root.request_id]), left
print("OK")
