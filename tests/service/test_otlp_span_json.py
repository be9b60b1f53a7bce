"""The stored span JSON and attributes that OTLP ingest writes (trackd.entities.otlp) are byte
for byte what the plain construction gives: the span as a dict written by ``json.dumps(...,
ensure_ascii=False)``, each attribute value decoded from its AnyValue and JSON-encoded once.
MLflow's span-content filters match on that text, separators included, so the fast path that
writes it directly must never drift from it. Checked on random spans with the awkward cases
(control characters, quotes, non-ASCII, JSON-looking strings, non-string values, events, trace
state, no end time, no parent)."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from trackd.entities import otlp
from trackd.entities.common import loads_json
from trackd.entities.otel_translation import translate

_KINDS = {0: "SPAN_KIND_INTERNAL", 1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER",
          3: "SPAN_KIND_CLIENT", 4: "SPAN_KIND_PRODUCER", 5: "SPAN_KIND_CONSUMER"}
_STATUS = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}


# -- the reference: the plain construction ---------------------------------------------------

def _plain_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_plain_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _plain_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _plain_stored(value: Any) -> str:
    if isinstance(value, str):
        try:
            inner = loads_json(value)
        except ValueError:
            inner = None
        else:
            if isinstance(inner, str | dict | list):
                return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _plain(span: Any) -> tuple[str, dict[str, str]]:
    attributes = {kv.key: _plain_stored(_plain_value(kv.value)) for kv in span.attributes}
    attributes["mlflow.traceRequestId"] = json.dumps("tr-" + span.trace_id.hex())
    events = [{"name": e.name, "time_unix_nano": e.time_unix_nano,
               "attributes": {kv.key: _plain_value(kv.value) for kv in e.attributes}}
              for e in span.events]
    translate(attributes, events)
    b64 = base64.b64encode
    content: dict[str, Any] = {
        "trace_id": b64(span.trace_id).decode(),
        "span_id": b64(span.span_id).decode(),
        "parent_span_id": b64(span.parent_span_id).decode() if span.parent_span_id else None,
        "name": span.name,
        "kind": _KINDS.get(span.kind, "SPAN_KIND_INTERNAL"),
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano or None,
        "events": events,
        "status": {"code": _STATUS.get(span.status.code, "STATUS_CODE_UNSET"),
                   "message": span.status.message},
        "attributes": attributes,
        "links": [],
    }
    if span.trace_state:
        content["trace_state"] = span.trace_state
    return json.dumps(content, ensure_ascii=False, default=str), attributes


# -- random spans ------------------------------------------------------------------------------

_PIECES = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "ß",
           "漢", "😀", "\u2028", "{", "}", "[", "]", ":", ",", "model", "NaN", "null", "true"]
_JSONISH = ['"LLM"', '"a \\"b\\""', '{"model": "gpt-4o", "x": [1, 2]}', "[1, 2.5, null]",
            ' {"a": 1}', '\n"x"', "{not json", '"unterminated', "[NaN]", "12", "1.5", "true",
            "null", "", " ", '"\\u00e9"', '{"k": "\\ud83d\\ude00"}', '{"a": Infinity}',
            '{"model": 3}', "[]", "{}"]


def _text(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(_JSONISH)
    return "".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 12)))


def _any(rng: random.Random, value: AnyValue, depth: int = 0) -> None:
    pick = rng.randrange(9 if depth < 2 else 7)
    if pick in (0, 1, 2):
        value.string_value = _text(rng)
    elif pick == 3:
        value.int_value = rng.choice([0, 1, -7, 2**62, -(2**63)])
    elif pick == 4:
        value.double_value = rng.choice([0.0, -1.5, 1e300, 3.14159, float("nan"), float("inf")])
    elif pick == 5:
        value.bool_value = rng.random() < 0.5
    elif pick == 6:
        if rng.random() < 0.5:
            value.bytes_value = rng.randbytes(rng.randrange(0, 6))
        # else: no value set at all
    elif pick == 7:
        for _ in range(rng.randrange(0, 3)):
            _any(rng, value.array_value.values.add(), depth + 1)
        if not value.array_value.values:
            value.array_value.SetInParent()
    else:
        for _ in range(rng.randrange(0, 3)):
            kv = value.kvlist_value.values.add(key=_text(rng))
            _any(rng, kv.value, depth + 1)
        if not value.kvlist_value.values:
            value.kvlist_value.SetInParent()


def _keyvalues(rng: random.Random, target: Any, n: int) -> None:
    keys = ["mlflow.spanType", "mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.llm.model",
            "mlflow.llm.provider", "mlflow.llm.cost", "mlflow.chat.tokenUsage", "session.id",
            "user.id", "mlflow.traceRequestId", "custom", "é", 'q"uote', "x\ny"]
    for _ in range(n):
        kv = KeyValue(key=rng.choice(keys) if rng.random() < 0.7 else _text(rng))
        _any(rng, kv.value)
        target.append(kv)


def _request(rng: random.Random, n_spans: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    _keyvalues(rng, resource_spans.resource.attributes, rng.randrange(0, 3))
    spans = resource_spans.scope_spans.add().spans
    trace = rng.randbytes(16)
    for k in range(n_spans):
        span = spans.add(trace_id=trace, span_id=rng.randbytes(8), name=_text(rng),
                         kind=rng.randrange(0, 7),
                         start_time_unix_nano=rng.randrange(0, 2**63))
        if k and rng.random() < 0.9:
            span.parent_span_id = rng.randbytes(8)
        if rng.random() < 0.9:
            span.end_time_unix_nano = rng.randrange(0, 2**63)
        if rng.random() < 0.7:
            span.status.code = rng.randrange(0, 4)
        if rng.random() < 0.3:
            span.status.message = _text(rng)
        if rng.random() < 0.2:
            span.trace_state = _text(rng)
        _keyvalues(rng, span.attributes, rng.randrange(0, 7))
        for _ in range(rng.randrange(0, 3) if rng.random() < 0.3 else 0):
            event = span.events.add(name=_text(rng), time_unix_nano=rng.randrange(0, 2**63))
            _keyvalues(rng, event.attributes, rng.randrange(0, 3))
    return request


@pytest.mark.parametrize("seed", range(6))
def test_span_json_is_what_json_dumps_writes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        request = _request(rng, rng.randrange(1, 6))
        # Through the wire format, as a request body arrives.
        parsed = otlp.parse_request(request.SerializeToString(), "application/x-protobuf")
        rows = otlp.span_rows(parsed)
        spans = [s for rs in parsed.resource_spans for sc in rs.scope_spans for s in sc.spans]
        assert len(rows) == len(spans)
        for row, span in zip(rows, spans, strict=True):
            content, attributes = _plain(span)
            assert row.content == content
            assert row.attributes == attributes
            assert list(row.attributes) == list(attributes)
            assert row.trace_id == "tr-" + span.trace_id.hex()
            assert row.span_id == span.span_id.hex()
            assert row.parent_span_id == (span.parent_span_id.hex() or None)
            assert row.end_ns == (span.end_time_unix_nano or None)


# -- exports whose spans repeat keys and values ------------------------------------------------
# The decoder keeps what one export's spans repeat (keys, short values, span types) and works
# each out once: a value must be stored and written the same the first time and every time
# after, whatever span it is in, on either side of the length above which nothing is kept.

_POOL = ['"LLM"', '"CHAIN"', '"UNKNOWN"', "LLM", "chat", "gpt-4o", '"gpt-4o"', "openai", "12",
         '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}',
         '{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}', "[1, 2]", "",
         "x" * 99, "y" * 100, "z" * 101, '"' + "w" * 98 + '"', '"' + "w" * 99 + '"',
         "é" * 100, '"' + "ü" * 100 + '"', "{not json", '"a \\"b\\""', ' {"a": 1}']
_POOL_KEYS = ["mlflow.spanType", "mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.llm.model",
              "mlflow.llm.provider", "mlflow.chat.tokenUsage", "gen_ai.operation.name",
              "gen_ai.request.model", "gen_ai.usage.input_tokens", "openinference.span.kind",
              "input.value", "output.value", "llm.model_name", "traceloop.span.kind",
              "session.id", "custom", "é"]


def _repeating_request(rng: random.Random, n_spans: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    traces = [rng.randbytes(16) for _ in range(rng.randrange(1, 4))]
    for _ in range(n_spans):
        span = spans.add(trace_id=rng.choice(traces), span_id=rng.randbytes(8),
                         name=rng.choice(_POOL), kind=rng.randrange(0, 7),
                         start_time_unix_nano=rng.randrange(0, 2**63))
        if rng.random() < 0.8:
            span.parent_span_id = rng.randbytes(8)
        span.status.code = rng.randrange(0, 4)
        if rng.random() < 0.2:
            span.status.message = rng.choice(_POOL)
        for _ in range(rng.randrange(0, 8)):
            kv = span.attributes.add(key=rng.choice(_POOL_KEYS))
            if rng.random() < 0.85:
                kv.value.string_value = rng.choice(_POOL)
            else:
                _any(rng, kv.value)
    return request


@pytest.mark.parametrize("seed", range(3))
def test_repeated_keys_and_values_are_written_as_the_first_time(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(20):
        request = _repeating_request(rng, rng.randrange(20, 120))
        parsed = otlp.parse_request(request.SerializeToString(), "application/x-protobuf")
        rows = otlp.span_rows(parsed)
        spans = [s for rs in parsed.resource_spans for sc in rs.scope_spans for s in sc.spans]
        for row, span in zip(rows, spans, strict=True):
            content, attributes = _plain(span)
            assert row.content == content
            assert list(row.attributes.items()) == list(attributes.items())
            # The type column: the span type as sent (before any translation), decoded.
            sent = {kv.key: kv.value for kv in span.attributes}.get("mlflow.spanType")
            if sent is None:
                assert row.type is None
                continue
            stored = _plain_stored(_plain_value(sent))
            try:
                decoded = loads_json(stored)
            except ValueError:
                decoded = stored
            assert row.type == (None if decoded is None else str(decoded)[:500])
