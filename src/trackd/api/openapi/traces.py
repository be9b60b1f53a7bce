"""Trace operations (MLflow 3; api/traces.py, api/span_outline.py). Spans arrive over OTLP
(``/v1/traces``, kept in the spans table) or as each trace's traces.json artifact."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    BOOLEAN,
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    message,
    text,
)
from trackd.api.openapi.traces_v2 import INFO_V2_RESPONSE, START_V2_REQUEST

_TRACE_ID = {"trace_id": text("tr- followed by 32 hex digits")}
_LOCATION = message(
    type=STRING, mlflow_experiment=message(("experiment_id",), experiment_id=STRING)
)
_TRACE_INFO = message(
    ("trace_id", "trace_location"),
    trace_id=NAME,
    client_request_id=STRING,
    trace_location=_LOCATION,
    request_time=text("RFC 3339 timestamp"),
    execution_duration=text("protobuf duration, e.g. 0.034s"),
    state=STRING,
    trace_metadata={"type": "object", "additionalProperties": STRING},
    tags={"type": "object", "additionalProperties": STRING},
    request_preview=STRING,
    response_preview=STRING,
)
_WRAPPED_INFO = message(("trace",), trace=message(("trace_info",), trace_info=_TRACE_INFO))
_TAG = message(("key",), key=NAME, value=STRING)

_SPAN = {"type": "object", "description": "an OTLP span (protobuf JSON)"}
_TRACE = message(("trace_info",), trace_info=_TRACE_INFO, spans=array(_SPAN))

V3: Operations = {
    ("POST", "/mlflow/traces/batchGetInfos"): Operation(
        "The infos of several traces (unknown ids are left out)",
        message(trace_ids=array(STRING)),
        message(trace_infos=array(_TRACE_INFO)),
    ),
    ("POST", "/mlflow/traces/link-prompts"): Operation(
        "Record that a trace used prompt versions (found by the trace filter "
        "prompt = \"name/version\")",
        message(("trace_id", "prompt_versions"), trace_id=NAME,
                prompt_versions=array(message(("name", "version"), name=NAME, version=STRING))),
    ),
    ("POST", "/mlflow/traces/link-to-run"): Operation(
        "Link up to 100 traces to a run (unknown trace ids are skipped)",
        message(("run_id",), trace_ids=array(STRING), run_id=NAME),
    ),
    ("GET", "/mlflow/traces/get"): Operation(
        "Get a trace with the spans kept in the database",
        message(("trace_id",), trace_id=NAME, allow_partial=BOOLEAN),
        message(("trace",), trace=_TRACE),
    ),
    ("GET", "/mlflow/traces/batchGet"): Operation(
        "Get traces with the spans kept in the database (unknown ids are left out)",
        message(trace_ids=array(STRING)),
        message(traces=array(_TRACE)),
    ),
    ("POST", "/mlflow/traces"): Operation(
        "Store a finished trace's info (StartTraceV3, under 3.0; its spans go to traces.json) "
        "or start a v2 trace (StartTrace, under 2.0)",
        {"anyOf": [message(("trace",), trace=message(("trace_info",), trace_info=_TRACE_INFO)),
                   START_V2_REQUEST]},
        {"anyOf": [_WRAPPED_INFO, INFO_V2_RESPONSE]},
    ),
    ("GET", "/mlflow/traces/{trace_id}"): Operation(
        "Get a trace's info", message(trace_id=STRING), _WRAPPED_INFO, path_params=_TRACE_ID
    ),
    ("POST", "/mlflow/traces/search"): Operation(
        "Search traces of some experiments",
        message(
            locations=array(_LOCATION),
            experiment_ids=array(STRING),
            filter=STRING,
            max_results=INT64,
            order_by=array(STRING),
            page_token=STRING,
        ),
        message(traces=array(_TRACE_INFO), next_page_token=STRING),
    ),
}

# Served under both 2.0 and 3.0, as MLflow does.
SHARED: Operations = {
    ("GET", "/mlflow/get-trace-artifact"): Operation(
        "A trace's spans as {\"spans\": [...]} (traces.json), from the database or its "
        "artifact location",
        message(request_id=STRING, trace_id=STRING),
        kind="download",
    ),
    ("PATCH", "/mlflow/traces/{trace_id}/tags"): Operation(
        "Set a trace tag", _TAG, path_params=_TRACE_ID
    ),
    ("DELETE", "/mlflow/traces/{trace_id}/tags"): Operation(
        "Delete a trace tag", message(("key",), key=NAME), path_params=_TRACE_ID
    ),
    ("POST", "/mlflow/traces/delete-traces"): Operation(
        "Delete traces of an experiment: by id, or the oldest before a time",
        message(
            ("experiment_id",),
            experiment_id=NAME,
            request_ids=array(STRING),
            max_timestamp_millis=INT64,
            max_traces=INT64,
        ),
        message(traces_deleted=INT64),
    ),
}

_ASSESSMENT = message(
    ("assessment_name",),
    assessment_id=STRING,
    assessment_name=NAME,
    trace_id=STRING,
    source=message(source_type=STRING, source_id=STRING),
    create_time=STRING,
    last_update_time=STRING,
    feedback={"type": "object", "description": "{value, error}"},
    expectation={"type": "object", "description": "{value} or {serialized_value}"},
    issue=message(issue_name=STRING),
    rationale=STRING,
    metadata={"type": "object", "additionalProperties": STRING},
    span_id=STRING,
    run_id=STRING,
    overrides=STRING,
    valid=BOOLEAN,
)
_ASSESSMENT_IDS = {**_TRACE_ID, "assessment_id": text("a- followed by 32 hex digits")}
_ONE_ASSESSMENT = message(("assessment",), assessment=_ASSESSMENT)
ASSESSMENTS: Operations = {
    ("POST", "/mlflow/traces/{trace_id}/assessments"): Operation(
        "Log feedback, an expectation or an issue reference on a trace (overrides marks the "
        "overridden one invalid)",
        _ONE_ASSESSMENT, _ONE_ASSESSMENT, path_params=_TRACE_ID,
    ),
    ("GET", "/mlflow/traces/{trace_id}/assessments/{assessment_id}"): Operation(
        "Get an assessment", response=_ONE_ASSESSMENT, path_params=_ASSESSMENT_IDS,
    ),
    ("PATCH", "/mlflow/traces/{trace_id}/assessments/{assessment_id}"): Operation(
        "Update an assessment's name, value, rationale or metadata (update_mask)",
        message(("assessment", "update_mask"), assessment=_ASSESSMENT, update_mask=STRING),
        _ONE_ASSESSMENT, path_params=_ASSESSMENT_IDS,
    ),
    ("DELETE", "/mlflow/traces/{trace_id}/assessments/{assessment_id}"): Operation(
        "Delete an assessment (what it overrode counts again)", path_params=_ASSESSMENT_IDS,
    ),
}

_OUTLINE_SPAN = message(
    ("span_id",), span_id=text("hex in the spans table, as in traces.json for an artifact"),
    parent_span_id=STRING, name=STRING, span_type=STRING, status=text("OK, ERROR or UNSET"),
    start_time_unix_nano=INT64, end_time_unix_nano=INT64)

# trackd's own routes for its trace page (/ajax-api/3.0 only).
SPAN_OUTLINE: Operations = {
    ("GET", "/trackd/traces/{trace_id}/span-outline"): Operation(
        "A trace's span tree and timeline without the spans' inputs, outputs, attributes and "
        "events (trackd's web UI)",
        response=message(("source", "spans"), source=text("database or artifact"),
                         spans=array(_OUTLINE_SPAN)),
        path_params=_TRACE_ID,
    ),
    ("GET", "/trackd/traces/{trace_id}/span"): Operation(
        "One span of a trace, as get-trace-artifact gives it (trackd's web UI)",
        message(("span_id",), span_id=text("an id from span-outline")),
        message(("span",), span=_SPAN),
        path_params=_TRACE_ID,
    ),
}

OPERATIONS: Operations = {
    **ASSESSMENTS,
    **V3,
    **SHARED,
    **SPAN_OUTLINE,
    ("POST", "/v1/traces"): Operation(
        "OTLP/HTTP span ingest: an ExportTraceServiceRequest as protobuf "
        "(application/x-protobuf) or OTLP JSON, optionally gzip or deflate; the experiment in "
        "the x-mlflow-experiment-id header, an optional run to link in x-mlflow-run-id",
        kind="upload",
        errors=(400, 404),
    ),
}
