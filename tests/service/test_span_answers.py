"""Spans as ``traces/get`` and ``traces/batchGet`` answer them (trackd.entities.spans) are byte
for byte what the plain conversion gives: each stored span parsed, every attribute value
decoded from its JSON and turned into an OTLP AnyValue by a straightforward recursion, the
whole written by orjson. The fast path shares serialized scalar attributes between the spans of
an answer and writes the commonest values out inline; it must never drift from the plain one.
Checked on random spans sharing one memo, with the awkward cases (attributes that are not JSON,
raw non-string values, repeated scalars of different types under one key, nested objects and
arrays, big and negative integers, floats, booleans, nulls, events, trace state, no end time,
no parent, no status)."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from trackd.entities.spans import AttributeMemo, otlp_fragment

# -- the reference: the plain conversion ----------------------------------------------------


def _plain_any(value: Any) -> dict[str, Any]:
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
    if isinstance(value, list):
        return {"array_value": {"values": [_plain_any(v) for v in value]}}
    return {"kvlist_value": {"values": [{"key": k, "value": _plain_any(v)}
                                        for k, v in value.items()]}}


def _plain_decoded(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            return json.loads(raw)
        except ValueError:
            return raw


def _plain(content: str) -> dict[str, Any]:
    span = orjson.loads(content)
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
    out["attributes"] = [{"key": k, "value": _plain_any(_plain_decoded(v))}
                         for k, v in (span.get("attributes") or {}).items()]
    out["events"] = [{"name": e.get("name") or "", "time_unix_nano": e.get("time_unix_nano"),
                      "attributes": [{"key": k, "value": _plain_any(v)}
                                     for k, v in (e.get("attributes") or {}).items()]}
                     for e in span.get("events") or []]
    status = span.get("status") or {}
    out["status"] = {"code": status.get("code") or "STATUS_CODE_UNSET",
                     "message": status.get("message") or ""}
    return out


# -- random stored spans ----------------------------------------------------------------------

_TEXT = ["", "x", "a\"b", "back\\slash", "new\nline", "\x00\x1f", "é ü 😀", "{not json",
         "[1, 2", "true", "null", "12", "-3.5", "NaN"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "int", "float", "bool", "null", "big"]
    if depth < 3:
        kinds += ["dict", "list"]
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(_TEXT)
    if kind == "int":
        return rng.randint(-1000, 1000)
    if kind == "big":
        return rng.choice([2**63 - 1, -(2**63), 2**53 + 1])
    if kind == "float":
        return rng.choice([0.0, -1.5, 1e-300, 3.141592653589793, 1e22])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(_TEXT) + str(i): _value(rng, depth + 1) for i in range(rng.randint(0, 4))}


def _stored_attribute(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.1:
        return rng.choice(_TEXT)  # written by another OpenTelemetry producer: maybe not JSON
    if roll < 0.15:
        return _value(rng)  # a raw value, not a JSON string
    if roll < 0.2:
        return "NaN" if rng.random() < 0.5 else "Infinity"  # Python's json, not orjson
    return json.dumps(_value(rng), ensure_ascii=rng.random() < 0.5)


def _span(rng: random.Random, shared: dict[str, Any]) -> str:
    attributes: dict[str, Any] = {}
    for key in rng.sample(sorted(shared), rng.randint(0, len(shared))):
        attributes[key] = shared[key]  # repeated word for word across spans
    for i in range(rng.randint(0, 5)):
        attributes[f"a{i}"] = _stored_attribute(rng)
    span: dict[str, Any] = {"trace_id": "guFMCPyv/x2HRf15Odj1iw==", "span_id": str(rng.random()),
                            "name": rng.choice(["", "step", "é"]),
                            "kind": rng.choice(["", "SPAN_KIND_SERVER", None]),
                            "start_time_unix_nano": rng.randint(0, 2**63 - 1),
                            "attributes": attributes if rng.random() < 0.95 else None}
    if rng.random() < 0.7:
        span["parent_span_id"] = rng.choice(["", "jRwl1gwMNus="])
    if rng.random() < 0.8:
        span["end_time_unix_nano"] = rng.randint(0, 2**63 - 1)
    if rng.random() < 0.2:
        span["trace_state"] = "k=v"
    if rng.random() < 0.3:
        span["events"] = [{"name": rng.choice(["", "exception"]),
                           "time_unix_nano": rng.randint(0, 2**63 - 1),
                           "attributes": {f"e{j}": _value(rng) for j in range(rng.randint(0, 3))}}
                          for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.9:
        span["status"] = {"code": rng.choice(["", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]),
                          "message": rng.choice(["", "boom"])}
    return json.dumps(span, ensure_ascii=False)


@pytest.mark.parametrize("seed", range(40))
def test_span_answers_are_what_the_plain_conversion_writes(seed: int) -> None:
    rng = random.Random(seed)
    shared = {"mlflow.traceRequestId": json.dumps("tr-1"), "mlflow.spanType": json.dumps("LLM"),
              "mlflow.spanLogLevel": "10", "flag": "true", "none": "null", "odd": "not json",
              "pi": "3.5", "raw": 7, "same": json.dumps("LLM")}
    contents = [_span(rng, shared) for _ in range(30)]
    memo: AttributeMemo = {}
    fast = orjson.dumps({"spans": [otlp_fragment(c, memo) for c in contents]})
    plain = orjson.dumps({"spans": [_plain(c) for c in contents]})
    assert fast == plain
