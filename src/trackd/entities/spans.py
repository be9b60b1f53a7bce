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

import orjson

from trackd.entities.common import loads_json as _loads


def _values(items: Any) -> list[dict[str, Any]]:
    """``kvlist_value.values`` for a parsed JSON object's items: ``any_value`` with its
    commonest cases (strings, whole numbers) written out, as span inputs and outputs are mostly
    those (one call fewer per value)."""
    out = []
    for key, value in items:
        kind = type(value)
        if kind is str:
            converted = {"string_value": value}
        elif kind is int:
            converted = {"int_value": str(value)}
        else:
            converted = any_value(value)
        out.append({"key": key if type(key) is str else str(key), "value": converted})
    return out


def any_value(value: Any) -> dict[str, Any]:
    """OTLP's JSON ``AnyValue`` for a plain value (int64s as strings, as protobuf writes them)."""
    # Dispatch on the exact type first: parsed JSON holds only these, and this runs once per
    # value of every span a trace read returns (isinstance chains cost more there).
    kind = type(value)
    if kind is str:
        return {"string_value": value}
    if kind is dict:
        return {"kvlist_value": {"values": _values(value.items())}}
    if kind is int:
        return {"int_value": str(value)}
    if kind is float:
        return {"double_value": value}
    if kind is bool:
        return {"bool_value": value}
    if kind is list:
        return {"array_value": {"values": [any_value(v) for v in value]}}
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


# A span serialized for an answer (see otlp_fragment).
SpanJson = orjson.Fragment

# (attribute key, stored value) -> the attribute as the API writes it, serialized.
AttributeMemo = dict[tuple[str, Any], orjson.Fragment]


# How a stored attribute that holds a JSON object or array starts.
_COMPOUND = ("{", "[")


def _scalar_attribute(key: str, raw: str) -> orjson.Fragment:
    """A stored attribute that is not an object or array, as ``{key, value: AnyValue}``,
    serialized. A trace's spans repeat many such attributes word for word (the trace id, span
    type, log level): each distinct one is parsed, converted and serialized once per answer
    (``memo`` in otlp_json; orjson copies the bytes into each span). Objects and arrays
    (inputs, outputs, messages) are rarely repeated and would keep their converted form alive
    for the whole answer: not kept."""
    return orjson.Fragment(orjson.dumps({"key": key, "value": any_value(_decoded(raw))}))


def otlp_fragment(content: str, memo: AttributeMemo) -> orjson.Fragment:
    """One stored span in the trace API's shape, already serialized (orjson embeds it as is).

    A trace read answers thousands of spans, each some twenty dictionaries and lists once
    converted. Kept alive until the whole answer is written, they made Python's cyclic garbage
    collector walk an ever larger heap, again and again: half the CPU time of reading a
    30,000-span trace. Serialized span by span, each span's objects are freed at once.
    """
    return orjson.Fragment(orjson.dumps(otlp_json(content, memo)))


def otlp_json(content: str, memo: AttributeMemo | None = None) -> dict[str, Any]:
    """One stored span (``spans.content``) in the trace API's shape, for orjson to write (some
    attributes are already serialized). Spans of one answer share ``memo`` (see
    _scalar_attribute)."""
    if memo is None:
        memo = {}
    span = _loads(content)
    get = span.get
    out: dict[str, Any] = {
        "trace_id": get("trace_id"),
        "span_id": get("span_id"),
        "name": get("name") or "",
        "kind": get("kind") or "SPAN_KIND_INTERNAL",
        "start_time_unix_nano": get("start_time_unix_nano"),
    }
    if get("parent_span_id"):
        out["parent_span_id"] = span["parent_span_id"]
    if get("end_time_unix_nano") is not None:
        out["end_time_unix_nano"] = span["end_time_unix_nano"]
    if get("trace_state"):
        out["trace_state"] = span["trace_state"]
    # Written out rather than a call per attribute: this runs for every attribute of every span
    # a trace read returns.
    converted: list[Any] = []
    attributes = get("attributes")
    if attributes:
        append = converted.append
        for key, raw in attributes.items():
            if type(raw) is str and raw[:1] not in _COMPOUND:
                entry = memo.get((key, raw))
                if entry is None:
                    entry = memo[key, raw] = _scalar_attribute(key, raw)
                append(entry)
            else:
                append({"key": key, "value": any_value(_decoded(raw))})
    out["attributes"] = converted
    events = get("events")
    out["events"] = [
        {
            "name": event.get("name") or "",
            "time_unix_nano": event.get("time_unix_nano"),
            "attributes": [{"key": k, "value": any_value(v)}
                           for k, v in (event.get("attributes") or {}).items()],
        }
        for event in events
    ] if events else []
    status = get("status") or {}
    out["status"] = {"code": status.get("code") or "STATUS_CODE_UNSET",
                     "message": status.get("message") or ""}
    return out
