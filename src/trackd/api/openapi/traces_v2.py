"""MLflow's deprecated v2 trace operations (api/traces_v2.py), as mlflow-skinny 2.x uses them.
Their start shares ``POST /mlflow/traces`` with the v3 start (traces.py describes both)."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    INT64,
    NAME,
    STRING,
    Operation,
    Operations,
    array,
    enum,
    message,
    text,
)

_PAIR = message(("key",), key=STRING, value=STRING)
_REQUEST_ID = {"request_id": text("the trace id (32 hex digits for v2 traces, tr-... for v3)")}
_INFO_V2 = message(
    ("request_id", "experiment_id", "timestamp_ms", "execution_time_ms", "status"),
    request_id=NAME,
    experiment_id=STRING,
    timestamp_ms=INT64,
    execution_time_ms=INT64,
    status=enum(("TRACE_STATUS_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS")),
    request_metadata=array(_PAIR),
    tags=array(_PAIR),
)
START_V2_REQUEST = message(
    ("experiment_id",),
    experiment_id=NAME,
    timestamp_ms=INT64,
    request_metadata=array(_PAIR),
    tags=array(_PAIR),
)
INFO_V2_RESPONSE = message(("trace_info",), trace_info=_INFO_V2)
_DATABRICKS_ONLY = (
    "Databricks-only (it reads inference tables or a SQL warehouse): an empty 404, as mlflow "
    "server answers on its own stores"
)

OPERATIONS: Operations = {
    ("PATCH", "/mlflow/traces/{request_id}"): Operation(
        "End a v2 trace: status, end time (the duration is counted from the start), metadata "
        "and tags merged into what is there",
        message(
            ("status",),
            timestamp_ms=INT64,
            status=enum(("OK", "ERROR", "IN_PROGRESS")),
            request_metadata=array(_PAIR),
            tags=array(_PAIR),
        ),
        INFO_V2_RESPONSE,
        path_params=_REQUEST_ID,
    ),
    ("GET", "/mlflow/traces/{request_id}/info"): Operation(
        "Get a trace's info in the v2 shape", response=INFO_V2_RESPONSE, path_params=_REQUEST_ID
    ),
    ("GET", "/mlflow/traces"): Operation(
        "Search traces of some experiments (v2 shape)",
        message(
            ("experiment_ids",),
            experiment_ids=array(STRING),
            filter=STRING,
            max_results=INT64,
            order_by=array(STRING),
            page_token=STRING,
        ),
        message(traces=array(_INFO_V2), next_page_token=STRING),
    ),
    ("GET", "/mlflow/get-online-trace-details"): Operation(
        "Online trace details", errors=(), description=_DATABRICKS_ONLY
    ),
    ("GET", "/mlflow/unified-traces"): Operation(
        "Unified trace search", errors=(), description=_DATABRICKS_ONLY
    ),
}
