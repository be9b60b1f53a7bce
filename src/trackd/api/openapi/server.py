"""Operations about the server itself: capabilities, and this very document."""

from __future__ import annotations

from trackd.api.openapi.spec import (
    BOOLEAN,
    EMPTY,
    INT64,
    STRING,
    Operation,
    Operations,
    array,
    message,
)

_GRAPHQL_ANSWER = message(
    data={"type": "object", "nullable": True, "description": "the query's result"},
    errors={"type": "array", "items": STRING, "nullable": True,
            "description": "messages of the fields that failed, or why the query was refused"},
)
_GATEWAY = Operation(
    "MLflow's UI asks for AI-gateway endpoints: none, trackd runs no gateway (/ajax-api only)",
    response=message(endpoints=array(EMPTY)),
    errors=(),
)
_GRAPHQL = (
    "MLflow 3.18's GraphQL schema (docs/api.md, GraphQL). Answers are 200 with data and "
    "errors; a query that does not parse is a 400 in the same shape."
)

OPERATIONS: Operations = {
    ("GET", "/mlflow/server-info"): Operation(
        "The server's capabilities (needs no credentials when auth is on)",
        response=message(
            ("store_type",),
            store_type=STRING,
            workspaces_enabled=BOOLEAN,
            trace_archival_enabled=BOOLEAN,
            multipart_uploads_enabled=BOOLEAN,
            multipart_downloads_enabled=BOOLEAN,
            artifact_serving_enabled=BOOLEAN,
            artifacts_presigned_only=BOOLEAN,
            tracking_auth=STRING,
            read_only=BOOLEAN,
            server=STRING,
            features_enabled=message(gateway=BOOLEAN, scheduled_issue_detection=BOOLEAN),
        ),
        errors=(),
    ),
    ("GET", "/mlflow/ui-telemetry"): Operation(
        "Whether MLflow's web UI may send usage events: never (/ajax-api only)",
        response=message(disable_ui_telemetry=BOOLEAN, disable_ui_events=array(STRING),
                         ui_rollout_percentage=INT64),
        errors=(),
    ),
    ("POST", "/mlflow/ui-telemetry"): Operation(
        "Usage events of MLflow's web UI: dropped unread (/ajax-api only)",
        message(records=array(EMPTY)),
        message(status=STRING),
        errors=(),
    ),
    ("GET", "/mlflow/gateway-proxy"): _GATEWAY,
    ("POST", "/mlflow/gateway-proxy"): _GATEWAY,
    ("GET", "/graphql"): Operation(
        "Run a GraphQL query (queries only)",
        message(("query",), query=STRING, variables=STRING, operationName=STRING),
        _GRAPHQL_ANSWER,
        errors=(400,),
        description=_GRAPHQL,
    ),
    ("POST", "/graphql"): Operation(
        "Run a GraphQL query or mutation",
        message(("query",), query=STRING, variables=EMPTY, operationName=STRING),
        _GRAPHQL_ANSWER,
        errors=(400,),
        description=_GRAPHQL,
    ),
    ("GET", "/openapi.json"): Operation(
        "This OpenAPI document",
        response=message(("openapi", "info", "paths"), openapi=STRING, info=EMPTY, paths=EMPTY),
        errors=(),
    ),
}
