"""OTLP trace export requests (``POST /v1/traces``) read into the rows of MLflow's ``spans`` table.

Bodies are OTLP/HTTP: protobuf (``application/x-protobuf``) or OTLP JSON (``application/json``,
ids in hex, which protobuf's own JSON mapping would read as base64), optionally gzip- or
deflate-compressed. Each span becomes what ``mlflow server`` stores for it:

- the MLflow trace id ``tr-<32 hex digits of the OTLP trace id>`` (derived, never taken from a
  client's ``mlflow.traceRequestId`` attribute, which is overwritten with it);
- ``content``: the span as JSON, OTLP's shape with base64 ids, ``SPAN_KIND_*`` and
  ``STATUS_CODE_*`` names, and ``attributes`` as a map of JSON-encoded values. MLflow's clients
  send attribute values that are JSON already (``"\\"LLM\\""``); those are stored once-encoded,
  not twice, and so is a JSON object or list that another OpenTelemetry SDK sent as a string;
- the columns MLflow searches on: name, type (``mlflow.spanType``), status, times, model name
  and provider, and costs (``mlflow.llm.cost``);
- other instrumentations' attributes (OpenTelemetry GenAI, OpenInference, Traceloop, ...)
  translated into MLflow's span type, inputs, outputs, token usage and model, as mlflow server
  does (trackd.entities.otel_translation).
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from binascii import b2a_base64
from dataclasses import dataclass, field
from typing import Any

from trackd.entities import otlp_json
from trackd.entities.common import loads_json
from trackd.entities.otel_translation import translate
from trackd.errors import MlflowError, invalid_parameter

# How json.dumps(ensure_ascii=False) writes a string, quotes included (its C encoder).
_str = json.encoder.encode_basestring

MEDIA_TYPES = ("application/x-protobuf", "application/json")
REQUEST_ID_ATTRIBUTE = "mlflow.traceRequestId"
SPAN_TYPE_ATTRIBUTE = "mlflow.spanType"
INPUTS_ATTRIBUTE = "mlflow.spanInputs"
OUTPUTS_ATTRIBUTE = "mlflow.spanOutputs"
TRACE_TAG_PREFIX = "mlflow.traceTag."
# An unspecified kind is stored as INTERNAL, OpenTelemetry's default, as mlflow server does.
_KINDS = {0: "SPAN_KIND_INTERNAL", 1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER",
          3: "SPAN_KIND_CLIENT", 4: "SPAN_KIND_PRODUCER", 5: "SPAN_KIND_CONSUMER"}
_STATUS = {0: ("STATUS_CODE_UNSET", "UNSET"), 1: ("STATUS_CODE_OK", "OK"),
           2: ("STATUS_CODE_ERROR", "ERROR")}
_MODEL_DIMENSION_CHARS = 500  # spans.model_name / model_provider are VARCHAR(500)
# A decompressed body may not exceed this: a small gzip bomb must not take the server's memory.
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024


class OtlpError(MlflowError):
    """A body that is not an OTLP trace export; answered 400 like mlflow server."""


# Most spans carry no cost: they share this empty mapping (never written to; a span with a cost
# gets a dict of its own).
_NO_COSTS: dict[str, float] = {}


@dataclass(slots=True)
class SpanRow:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    type: str | None
    status: str
    start_ns: int
    end_ns: int | None
    content: str
    attributes: dict[str, str]  # JSON-encoded values, as stored
    model_name: str | None = None
    model_provider: str | None = None
    costs: dict[str, float] = field(default_factory=lambda: _NO_COSTS)
    resource: dict[str, Any] = field(default_factory=dict)

    def attribute(self, key: str) -> Any:
        """An attribute's value, decoded."""
        raw = self.attributes.get(key)
        if raw is None:
            return None
        try:
            return loads_json(raw)
        except ValueError:
            return raw


def decompress(body: bytes, encoding: str | None) -> bytes:
    name = (encoding or "").strip().lower()
    if name in ("", "identity"):
        return body
    try:
        if name == "gzip":
            stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            stream = zlib.decompressobj()
        else:
            raise invalid_parameter(f"Unsupported Content-Encoding: {encoding}")
        out = stream.decompress(body, MAX_DECOMPRESSED_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise OtlpError(f"The body is not valid {name} data: {exc}",
                        "INVALID_PARAMETER_VALUE") from exc
    if len(out) > MAX_DECOMPRESSED_BYTES:
        raise invalid_parameter(
            f"The decompressed body exceeds {MAX_DECOMPRESSED_BYTES // 2**20} MiB.")
    return out


def parse_request(body: bytes, media_type: str) -> Any:
    """The ExportTraceServiceRequest in ``body``, or OtlpError."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        if media_type == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            _hex_ids_to_base64(data)
            if not otlp_json.fill(data, request):  # a body it cannot vouch for: ParseDict's
                request = ExportTraceServiceRequest()
                _parse_dict(data, request)
        else:
            request.ParseFromString(body)
    except (DecodeError, ValueError, TypeError, AttributeError) as exc:
        raise OtlpError(f"Invalid OpenTelemetry format: {exc}", "INVALID_PARAMETER_VALUE") \
            from None
    if not any(scope.spans for rs in request.resource_spans for scope in rs.scope_spans):
        raise OtlpError("Invalid OpenTelemetry format - no spans found",
                        "INVALID_PARAMETER_VALUE")
    return request


def _parse_dict(data: dict[str, Any], request: Any) -> None:
    # Imported here: json_format takes ~18 ms to import, which a server that only ever gets
    # protobuf bodies need not pay on its first export.
    from google.protobuf.json_format import Error, ParseDict

    try:
        ParseDict(data, request, ignore_unknown_fields=True)
    except Error as exc:  # a field of the wrong type...: 400, as mlflow server answers it
        raise ValueError(str(exc)) from None


def _hex_ids_to_base64(data: dict[str, Any]) -> None:
    for resource_spans in data.get("resourceSpans") or data.get("resource_spans") or []:
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("scope_spans") or []
        for scope in scopes:
            for span in scope.get("spans") or []:
                for item in [span, *(span.get("links") or [])]:
                    for key in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id",
                                "parent_span_id"):
                        if isinstance(item.get(key), str) and item[key]:
                            item[key] = base64.b64encode(bytes.fromhex(item[key])).decode()


def decode_any(value: Any) -> Any:
    """An OTLP AnyValue as a plain value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decode_any(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: decode_any(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def stored_attribute(value: Any) -> str:
    """How MLflow stores an attribute value: JSON-encoded once. A string that holds JSON text
    of a string, object or list (what MLflow's clients send) is that JSON, not encoded again."""
    if isinstance(value, str):
        return _stored_text(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _stored_text(text: str) -> str:
    """stored_attribute of a string. JSON text of a string, object or list starts with ``"``,
    ``{`` or ``[`` (or with JSON's whitespace): any other string is encoded without trying to
    parse it."""
    first = text[:1]
    if first and first in _JSON_TEXT_START:
        try:
            inner = loads_json(text)
        except ValueError:
            return _str(text)
        if first in _JSON_WHITESPACE and not isinstance(inner, str | dict | list):
            return _str(text)
        return text
    return _str(text)


# What JSON text of a string, object or list may start with: its opening character, or
# whitespace before it (the only whitespace JSON and Python's json allow).
_JSON_WHITESPACE = " \t\n\r"
_JSON_TEXT_START = frozenset('"{[' + _JSON_WHITESPACE)


# An export's spans repeat their attribute keys and many short values (span types, model and
# provider names...): those are encoded once per export. Longer values (inputs, outputs) are
# nearly always unique and are not kept.
_MEMO_CHARS = 100


class _Memo:
    """What the spans of one export share, worked out once per export."""

    __slots__ = ("traces", "stored", "encoded", "keys", "types")

    def __init__(self) -> None:
        # raw trace id -> (MLflow trace id, the span JSON's opening up to the span id, the
        # request-id attribute as stored)
        self.traces: dict[bytes, tuple[str, str, str]] = {}
        self.stored: dict[str, str] = {}  # string attribute value as sent -> as stored
        self.encoded: dict[str, str] = {}  # stored value -> as written in the span JSON
        self.keys: dict[str, str] = {}  # attribute key -> '"key": '
        self.types: dict[str, str | None] = {}  # stored mlflow.spanType -> the type column


def _attributes(items: Any, memo: _Memo) -> dict[str, str]:
    """Span attributes as stored. Attribute values are nearly always strings (MLflow's
    clients send JSON text): those skip the generic decoding."""
    out = {}
    known = memo.stored
    for kv in items:
        value = kv.value
        # A non-empty string_value means the oneof holds a string; an empty one may be unset.
        text = value.string_value
        if text or value.WhichOneof("value") == "string_value":
            if len(text) > _MEMO_CHARS:  # not looked up: hashing a long text costs too
                out[kv.key] = _stored_text(text)
                continue
            stored = known.get(text)
            if stored is None:
                stored = known[text] = _stored_text(text)
            out[kv.key] = stored
        else:
            out[kv.key] = stored_attribute(decode_any(value))
    return out


def _b64(raw: bytes) -> str:
    return b2a_base64(raw, newline=False).decode()


def span_rows(request: Any) -> list[SpanRow]:
    rows = []
    memo = _Memo()
    for resource_spans in request.resource_spans:
        resource = {kv.key: decode_any(kv.value) for kv in resource_spans.resource.attributes}
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                rows.append(_row(span, resource, memo))
    return rows


def _bad_ids() -> OtlpError:
    return OtlpError("Cannot convert OpenTelemetry span to MLflow span: a span needs a "
                     "16-byte trace id and an 8-byte span id", "INVALID_PARAMETER_VALUE")


def _trace_strings(raw_trace_id: bytes) -> tuple[str, str, str]:
    """MLflow's trace id, the span JSON up to its span id, and the request-id attribute."""
    if len(raw_trace_id) != 16:
        raise _bad_ids()
    trace_id = "tr-" + raw_trace_id.hex()
    return (trace_id, '{"trace_id": "' + _b64(raw_trace_id) + '", "span_id": "',
            '"' + trace_id + '"')  # json.dumps of hex digits


# The span JSON's fixed text between its values, by kind and status code (json.dumps writes
# the names as they are: plain ASCII).
_KIND_TEXT = {code: ', "kind": "' + name + '", "start_time_unix_nano": '
              for code, name in _KINDS.items()}
_DEFAULT_KIND_TEXT = _KIND_TEXT[0]
_STATUS_TEXT = {code: ', "status": {"code": "' + name + '", "message": '
                for code, (name, _value) in _STATUS.items()}


def _row(span: Any, resource: dict[str, Any], memo: _Memo) -> SpanRow:
    # Each read of a protobuf field builds a new Python object: every field is read once.
    raw_trace_id, raw_span_id, raw_parent = span.trace_id, span.span_id, span.parent_span_id
    known = memo.traces.get(raw_trace_id)
    if known is None:
        known = memo.traces[raw_trace_id] = _trace_strings(raw_trace_id)
    trace_id, head, request_id_attribute = known
    if len(raw_span_id) != 8:
        raise _bad_ids()
    attributes = _attributes(span.attributes, memo)
    attributes[REQUEST_ID_ATTRIBUTE] = request_id_attribute
    # The type column keeps the type the span was sent with; MLflow's translation of other
    # instrumentations' attributes only reaches the stored attributes (and model columns).
    sent_type = attributes.get(SPAN_TYPE_ATTRIBUTE)
    events = [{"name": e.name, "time_unix_nano": e.time_unix_nano,
               "attributes": {kv.key: decode_any(kv.value) for kv in e.attributes}}
              for e in span.events] if len(span.events) else []
    translate(attributes, events)
    status = span.status
    code, message = status.code, status.message
    start, end, name = span.start_time_unix_nano, span.end_time_unix_nano or None, span.name
    trace_state = span.trace_state
    content = "".join((
        head, _b64(raw_span_id),
        '", "parent_span_id": "' + _b64(raw_parent) + '", "name": ' if raw_parent
        else '", "parent_span_id": null, "name": ',
        _str(name), _KIND_TEXT.get(span.kind, _DEFAULT_KIND_TEXT), str(start),
        ', "end_time_unix_nano": ', "null" if end is None else str(end),
        ', "events": ', json.dumps(events, ensure_ascii=False, default=str) if events else "[]",
        _STATUS_TEXT.get(code) or _STATUS_TEXT[0], _str(message) if message else '""',
        '}, "attributes": ', _pairs(attributes, memo), ', "links": []',
        ', "trace_state": ' + _str(trace_state) + "}" if trace_state else "}",
    ))
    span_type = None
    if sent_type is not None:
        span_type = memo.types.get(sent_type, _UNSEEN)
        if span_type is _UNSEEN:
            decoded = _decoded(sent_type)
            span_type = str(decoded)[:500] if decoded is not None else None
            if len(sent_type) <= _MEMO_CHARS:
                memo.types[sent_type] = span_type
    # Every field given, in order: the dataclass's keyword and default handling costs too.
    row = SpanRow(trace_id, raw_span_id.hex(), raw_parent.hex() if raw_parent else None, name,
                  span_type, (_STATUS.get(code) or _STATUS[0])[1], start, end, content,
                  attributes, None, None, _NO_COSTS, resource)
    # Most spans name no model, provider or cost: the lookups are skipped then.
    if _LLM_KEYS.isdisjoint(attributes):
        return row
    row.model_name = _dimension(row.attribute("mlflow.llm.model"))
    row.model_provider = _dimension(row.attribute("mlflow.llm.provider"))
    row.costs = _costs(row.attribute("mlflow.llm.cost"))
    return row


_UNSEEN: Any = object()
_LLM_KEYS = frozenset({"mlflow.llm.model", "mlflow.llm.provider", "mlflow.llm.cost"})


def _pairs(attributes: dict[str, str], memo: _Memo) -> str:
    """The attributes as ``json.dumps`` writes them: the span's stored JSON is exactly what
    ``json.dumps(..., ensure_ascii=False)`` writes for the dict {trace_id, span_id,
    parent_span_id, name, kind, start_time_unix_nano, end_time_unix_nano, events, status,
    attributes, links[, trace_state]}, written as text directly (the dict and the generic
    encoder cost more than the span's other work). Byte for byte: MLflow's span-content
    filters match on this text, separators included."""
    keys, encoded = memo.keys, memo.encoded
    parts = []
    for key, value in attributes.items():
        if type(value) is not str:
            return json.dumps(attributes, ensure_ascii=False, default=str)
        key_text = keys.get(key)
        if key_text is None:
            key_text = keys[key] = _str(key) + ": "
        if len(value) > _MEMO_CHARS:
            parts.append(key_text + _str(value))
            continue
        value_text = encoded.get(value)
        if value_text is None:
            value_text = encoded[value] = _str(value)
        parts.append(key_text + value_text)
    return "{" + ", ".join(parts) + "}"


def _decoded(raw: str) -> Any:
    try:
        return loads_json(raw)
    except ValueError:
        return raw


def _dimension(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:_MODEL_DIMENSION_CHARS]


def _costs(value: Any) -> dict[str, float]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    out = {}
    for key in ("input_cost", "output_cost", "total_cost"):
        number = value.get(key)
        if isinstance(number, int | float) and not isinstance(number, bool) \
                and number == number and abs(number) != float("inf"):
            out[key] = float(number)
    return out
