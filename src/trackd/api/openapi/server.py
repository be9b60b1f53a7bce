"""Operations about the server itself: capabilities, and this very document."""

from __future__ import annotations

from trackd.api.openapi.spec import BOOLEAN, EMPTY, STRING, Operation, Operations, message

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
        ),
        errors=(),
    ),
    ("GET", "/openapi.json"): Operation(
        "This OpenAPI document",
        response=message(("openapi", "info", "paths"), openapi=STRING, info=EMPTY, paths=EMPTY),
        errors=(),
    ),
}
