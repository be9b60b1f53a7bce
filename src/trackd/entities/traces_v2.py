"""Traces as MLflow's deprecated v2 routes show them (``TraceInfo`` in MLflow's service.proto).

The same stored trace as entities/traces.py, in the older vocabulary 2.x clients speak:
``request_id`` for the trace id, ``timestamp_ms`` / ``execution_time_ms`` in milliseconds,
``status`` (``TraceStatus``) for the state, and metadata and tags as lists of ``{key, value}``.
"""

from __future__ import annotations

from typing import Any

from trackd.entities.traces import TraceInfo

# TraceStatus's values a client may send, in proto enum order (1, 2, 3; 0 is unspecified).
# They are also the strings trace_info.status holds for them, as for the v3 states.
END_STATUSES = ("OK", "ERROR", "IN_PROGRESS")
UNSPECIFIED_STATUS = "TRACE_STATUS_UNSPECIFIED"
# mlflow server cuts what it answers to these lengths (the stored values stay whole).
_MAX_METADATA_CHARS = 250
_MAX_TAG_KEY_CHARS = 250
_MAX_TAG_VALUE_CHARS = 4096


def v2_status(state: str) -> str:
    """The v2 ``TraceStatus`` of a stored state: the same name, but for the unspecified one."""
    return UNSPECIFIED_STATUS if state == "STATE_UNSPECIFIED" else state


def v2_json(info: TraceInfo) -> dict[str, Any]:
    """A trace's info in the v2 shape. Fields v2 has no place for (previews, assessments,
    client request id) are left out, as mlflow server leaves them out."""
    out: dict[str, Any] = {
        "request_id": info.trace_id,
        "experiment_id": str(info.experiment_id),
        "timestamp_ms": info.request_time_ms,
        # proto3 has no null integer: a running trace's duration reads 0, as in mlflow server.
        "execution_time_ms": info.execution_ms or 0,
        "status": v2_status(info.state),
    }
    if info.metadata:
        out["request_metadata"] = [
            {"key": k[:_MAX_METADATA_CHARS], "value": v[:_MAX_METADATA_CHARS]}
            for k, v in info.metadata.items()
        ]
    if info.tags:
        out["tags"] = [
            {"key": k[:_MAX_TAG_KEY_CHARS], "value": v[:_MAX_TAG_VALUE_CHARS]}
            for k, v in info.tags.items()
        ]
    return out
