"""Review entities (MLflow 3.18; api/issues.py): issues found in an experiment's traces."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    BOOLEAN,
    INT64,
    STRING,
    Operation,
    Operations,
    array,
    enum,
    limited,
    message,
    text,
)

_STATUS = enum(("pending", "rejected", "resolved"))
_SEVERITY = enum(("not_an_issue", "low", "medium", "high"))
_STRINGS = array(limited(250, min_length=1))
_MAP = {"type": "object", "additionalProperties": STRING}
_ISSUE_ID = {"issue_id": text("iss- followed by up to 32 letters, digits, - or _")}
_ISSUE = message(
    ("issue_id", "experiment_id", "name", "description", "status"),
    issue_id=STRING, experiment_id=STRING, name=STRING, description=STRING, status=_STATUS,
    severity=_SEVERITY, root_causes=array(STRING), source_run_id=STRING,
    created_timestamp=INT64, last_updated_timestamp=INT64, created_by=STRING,
    categories=array(STRING), trace_count=INT64, last_seen_timestamp=INT64,
    last_updated_by=STRING, metadata=_MAP,
)
_ONE = message(("issue",), issue=_ISSUE)

OPERATIONS: Operations = {
    ("POST", "/mlflow/issues"): Operation(
        "Create an issue in an experiment",
        message(("experiment_id", "name", "description"), experiment_id=STRING,
                name=limited(250, min_length=1), description=STRING, status=_STATUS,
                severity=_SEVERITY, root_causes=array(STRING), source_run_id=STRING,
                created_by=limited(255), categories=_STRINGS, issue_id=STRING,
                last_seen_timestamp=INT64, metadata=_MAP),
        _ONE,
    ),
    ("GET", "/mlflow/issues/{issue_id}"): Operation(
        "Get an issue", response=_ONE, path_params=_ISSUE_ID,
    ),
    ("PATCH", "/mlflow/issues/{issue_id}"): Operation(
        "Update an issue (issue_id is required in the body too; the path names the issue)",
        message(("issue_id",), issue_id=STRING, name=limited(250, min_length=1),
                description=STRING, status=_STATUS, severity=_SEVERITY, categories=_STRINGS,
                last_seen_timestamp=INT64, last_updated_by=limited(255), metadata=_MAP,
                delete_metadata_keys=_STRINGS),
        _ONE, path_params=_ISSUE_ID,
    ),
    ("POST", "/mlflow/issues/search"): Operation(
        "Search issues (most severe first unless order_by says otherwise)",
        message(experiment_id=STRING, filter_string=STRING, max_results=INT64,
                page_token=STRING, include_trace_count=BOOLEAN, name=limited(250),
                statuses=array(_STATUS), severities=array(_SEVERITY), categories=_STRINGS,
                order_by=array(STRING), include_total_count=BOOLEAN,
                view=enum(("basic", "full"))),
        message(issues=array(_ISSUE), next_page_token=STRING, total_count=INT64),
    ),
    ("POST", "/mlflow/issues/invoke"): Operation(
        "MLflow's LLM-based issue detection job: not available on trackd (501)",
        errors=(501,),
    ),
    ("POST", "/mlflow/issues/schedule/state"): Operation(
        "The schedule of MLflow's issue detection jobs: not available on trackd (501)",
        errors=(501,),
    ),
}
