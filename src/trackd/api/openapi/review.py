"""Review entities (MLflow 3.18; api/issues.py, api/label_schemas.py, api/review_queues.py):
issues found in an experiment's traces, the questions reviewers answer and their review queues."""

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

_INPUT = message(
    pass_fail=message(positive_label=limited(64, min_length=1),
                      negative_label=limited(64, min_length=1)),
    categorical=message(options=array(limited(64, min_length=1)), multi_select=BOOLEAN),
    numeric=message(min_value={"type": "number"}, max_value={"type": "number"}),
    text=message(max_length=INT64),
)
_SCHEMA = message(
    ("schema_id", "experiment_id", "name", "type", "input"),
    schema_id=STRING, experiment_id=STRING, name=STRING,
    type=enum(("FEEDBACK", "EXPECTATION")), input=_INPUT, instruction=STRING,
    enable_comment=BOOLEAN, created_by=STRING, created_at=INT64, last_updated_at=INT64,
    is_default=BOOLEAN,
)
_ONE_SCHEMA = message(("label_schema",), label_schema=_SCHEMA)
_SCHEMA_ID = message(("schema_id",), schema_id=STRING)

OPERATIONS.update({
    ("POST", "/mlflow/label-schemas/create"): Operation(
        "Create a label schema (a question reviewers answer) in an experiment",
        message(("experiment_id", "name", "type", "input"), experiment_id=STRING,
                name=limited(250, min_length=1), type=enum(("FEEDBACK", "EXPECTATION")),
                input=_INPUT, instruction=limited(1000), enable_comment=BOOLEAN),
        _ONE_SCHEMA,
    ),
    ("GET", "/mlflow/label-schemas/get"): Operation(
        "Get a label schema by id", _SCHEMA_ID, _ONE_SCHEMA,
    ),
    ("GET", "/mlflow/label-schemas/get-by-name"): Operation(
        "Get a label schema by experiment and name",
        message(("experiment_id", "name"), experiment_id=STRING, name=STRING), _ONE_SCHEMA,
    ),
    ("GET", "/mlflow/label-schemas/list"): Operation(
        "List an experiment's label schemas, newest first (creates the default question)",
        message(("experiment_id",), experiment_id=STRING, max_results=INT64,
                page_token=STRING),
        message(label_schemas=array(_SCHEMA), next_page_token=STRING),
    ),
    ("PATCH", "/mlflow/label-schemas/update"): Operation(
        "Update a label schema's name, instruction, comment flag or input settings",
        message(("schema_id",), schema_id=STRING, name=limited(250, min_length=1),
                instruction=limited(1000), enable_comment=BOOLEAN, input=_INPUT),
        _ONE_SCHEMA,
    ),
    ("DELETE", "/mlflow/label-schemas/delete"): Operation(
        "Delete a label schema (no-op when it does not exist)", _SCHEMA_ID,
    ),
})

_QUEUE = message(
    ("queue_id", "experiment_id", "name", "queue_type"),
    queue_id=STRING, experiment_id=STRING, name=STRING, queue_type=enum(("USER", "CUSTOM")),
    created_by=STRING, creation_time_ms=INT64, last_update_time_ms=INT64,
    users=array(STRING), schema_ids=array(STRING),
)
_ONE_QUEUE = message(("review_queue",), review_queue=_QUEUE)
_QUEUE_ID = message(("queue_id",), queue_id=STRING)
_STATUS_NAME = enum(("PENDING", "COMPLETE", "DECLINED"))
_ITEM = message(
    ("queue_id", "item_id", "item_type", "status"),
    queue_id=STRING, item_id=STRING, item_type=enum(("TRACE",)), status=_STATUS_NAME,
    completed_by=STRING, completed_time_ms=INT64, creation_time_ms=INT64,
    last_update_time_ms=INT64,
)
_ITEM_IDS = array(limited(50, min_length=1))
_USERS = array(limited(250, min_length=1))
_RQ = "/mlflow/review-queues"

OPERATIONS.update({
    ("POST", f"{_RQ}/create"): Operation(
        "Create a review queue (USER: one reviewer's own; CUSTOM: named, with reviewers and "
        "questions)",
        message(("experiment_id", "name", "queue_type"), experiment_id=STRING,
                name=limited(250, min_length=1), queue_type=enum(("USER", "CUSTOM")),
                users=_USERS, schema_ids=array(limited(36, min_length=1))),
        _ONE_QUEUE,
    ),
    ("POST", f"{_RQ}/get-or-create-user"): Operation(
        "A reviewer's own USER queue, made on first call",
        message(("experiment_id", "user"), experiment_id=STRING,
                user=limited(250, min_length=1)),
        _ONE_QUEUE,
    ),
    ("GET", f"{_RQ}/get"): Operation("Get a review queue by id", _QUEUE_ID, _ONE_QUEUE),
    ("GET", f"{_RQ}/get-by-name"): Operation(
        "Get a review queue by experiment and name (case-insensitive)",
        message(("experiment_id", "name"), experiment_id=STRING, name=STRING), _ONE_QUEUE,
    ),
    ("GET", f"{_RQ}/list"): Operation(
        "List an experiment's review queues, newest first",
        message(("experiment_id",), experiment_id=STRING, user=STRING, item_id=STRING,
                max_results=INT64, page_token=STRING),
        message(review_queues=array(_QUEUE), next_page_token=STRING),
    ),
    ("POST", f"{_RQ}/update"): Operation(
        "Rename a CUSTOM queue, give it a new owner, or replace its reviewers or questions "
        "(each list only with its update_* flag)",
        message(("queue_id",), queue_id=STRING, name=limited(250, min_length=1),
                new_owner=limited(250, min_length=1), users=_USERS, update_users=BOOLEAN,
                schema_ids=array(STRING), update_schema_ids=BOOLEAN),
        _ONE_QUEUE,
    ),
    ("POST", f"{_RQ}/delete"): Operation(
        "Delete a review queue with its items (no-op when it does not exist)", _QUEUE_ID,
    ),
    ("POST", f"{_RQ}/items/add"): Operation(
        "Add traces of the queue's experiment to a queue (idempotent)",
        message(("queue_id", "item_ids"), queue_id=STRING, item_ids=_ITEM_IDS,
                item_type=enum(("TRACE",))),
        message(items=array(_ITEM)),
    ),
    ("GET", f"{_RQ}/items/list"): Operation(
        "List a queue's items, newest first",
        message(("queue_id",), queue_id=STRING, status=_STATUS_NAME, max_results=INT64,
                page_token=STRING),
        message(items=array(_ITEM), next_page_token=STRING),
    ),
    ("POST", f"{_RQ}/items/remove"): Operation(
        "Remove items from a queue (unknown items are ignored)",
        message(("queue_id", "item_ids"), queue_id=STRING, item_ids=_ITEM_IDS),
    ),
    ("POST", f"{_RQ}/items/set-status"): Operation(
        "Set an item's review status (COMPLETE/DECLINED record who reviewed it)",
        message(("queue_id", "item_id", "status"), queue_id=STRING, item_id=STRING,
                status=_STATUS_NAME, completed_by=limited(250)),
        message(("item",), item=_ITEM),
    ),
})
