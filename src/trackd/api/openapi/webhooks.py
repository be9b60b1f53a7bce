"""Registry webhook operations (MLflow 3.18; api/webhooks.py)."""

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
from trackd.entities.webhooks import ALL_ACTIONS, STATUSES, VALID_ACTIONS

_ID = {"webhook_id": text("the webhook's UUID")}
_EVENT = message(
    ("entity", "action"),
    entity=enum([e.upper() for e in VALID_ACTIONS]),
    action=enum([a.upper() for a in ALL_ACTIONS]),
)
_WEBHOOK = message(
    webhook_id=STRING, name=STRING, description=STRING, url=STRING, events=array(_EVENT),
    status=enum(STATUSES), creation_timestamp=INT64, last_updated_timestamp=INT64,
)
_ONE = message(("webhook",), webhook=_WEBHOOK)
_FIELDS = {
    "name": text("letters, digits, '.', '_', '-'; at most 63 characters", min_length=1),
    "url": limited(500, "http(s) URL (MLFLOW_WEBHOOK_ALLOWED_SCHEMES)"),
    "events": array(_EVENT),
    "description": limited(1000),
    "secret": text("HMAC key for X-MLflow-Signature; stored encrypted, never returned"),
    "status": enum(STATUSES),
}
_RESULT = message(success=BOOLEAN, response_status=INT64, response_body=STRING,
                  error_message=STRING)

OPERATIONS: Operations = {
    ("POST", "/mlflow/webhooks"): Operation(
        "Create a webhook for registry events", message(("name", "url", "events"), **_FIELDS),
        _ONE),
    ("GET", "/mlflow/webhooks"): Operation(
        "List webhooks, newest first",
        message(max_results=INT64, page_token=STRING),
        message(webhooks=array(_WEBHOOK), next_page_token=STRING), errors=(400,)),
    ("GET", "/mlflow/webhooks/{webhook_id}"): Operation(
        "Get a webhook", response=_ONE, path_params=_ID),
    ("PATCH", "/mlflow/webhooks/{webhook_id}"): Operation(
        "Update a webhook's fields (absent ones are kept)", message(**_FIELDS), _ONE,
        path_params=_ID),
    ("DELETE", "/mlflow/webhooks/{webhook_id}"): Operation(
        "Delete a webhook", path_params=_ID),
    ("POST", "/mlflow/webhooks/{webhook_id}/test"): Operation(
        "Send an example payload now and report the receiver's answer",
        message(event=_EVENT), message(("result",), result=_RESULT), path_params=_ID),
}

