"""Spans as MLflow's ``spans.content`` column holds them, and as the trace API sends them.

``mlflow server`` stores each span it ingests over OTLP as JSON in ``spans.content``: OTLP's
JSON shape (base64 ids, ``SPAN_KIND_*``, ``STATUS_CODE_*``) except that ``attributes`` is a map
of JSON-encoded values (MLflow's own span attributes) and event attributes a map of plain
values. ``traces/get`` and ``traces/batchGet`` answer OTLP's shape proper, attributes as
``[{key, value: AnyValue}]``; the client decodes each AnyValue and JSON-encodes it again, so the
attribute it reads is the one stored.
"""

from __future__ import annotations

from typing import Any

from trackd.entities.common import loads_json as _loads


def any_value(value: Any) -> dict[str, Any]:
    """OTLP's JSON ``AnyValue`` for a plain value (int64s as strings, as protobuf writes them)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        return {"int_value": str(value)}
    if isinstance(value, float):
        return {"double_value": value}
    if isinstance(value, str):
        return {"string_value": value}
    if isinstance(value, list | tuple):
        return {"array_value": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlist_value": {"values": [{"key": str(k), "value": any_value(v)}
                                            for k, v in value.items()]}}
    return {"string_value": str(value)}


def _decoded(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return _loads(raw)
    except ValueError:
        return raw  # not JSON: an attribute written by another OpenTelemetry producer


def otlp_json(content: str) -> dict[str, Any]:
    """One stored span (``spans.content``) in the trace API's shape."""
    span = _loads(content)
    out: dict[str, Any] = {
        "trace_id": span.get("trace_id"),
        "span_id": span.get("span_id"),
        "name": span.get("name") or "",
        "kind": span.get("kind") or "SPAN_KIND_INTERNAL",
        "start_time_unix_nano": span.get("start_time_unix_nano"),
    }
    if span.get("parent_span_id"):
        out["parent_span_id"] = span["parent_span_id"]
    if span.get("end_time_unix_nano") is not None:
        out["end_time_unix_nano"] = span["end_time_unix_nano"]
    if span.get("trace_state"):
        out["trace_state"] = span["trace_state"]
    attributes = span.get("attributes") or {}
    out["attributes"] = [{"key": k, "value": any_value(_decoded(v))}
                         for k, v in attributes.items()]
    out["events"] = [
        {
            "name": event.get("name") or "",
            "time_unix_nano": event.get("time_unix_nano"),
            "attributes": [{"key": k, "value": any_value(v)}
                           for k, v in (event.get("attributes") or {}).items()],
        }
        for event in span.get("events") or []
    ]
    status = span.get("status") or {}
    out["status"] = {"code": status.get("code") or "STATUS_CODE_UNSET",
                     "message": status.get("message") or ""}
    return out
