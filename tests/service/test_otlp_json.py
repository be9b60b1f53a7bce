"""OTLP/JSON bodies (trackd.entities.otlp_json) give exactly the message protobuf's
``ParseDict(..., ignore_unknown_fields=True)`` gives, or the same error: on exports written as
OpenTelemetry SDKs write them (camelCase or proto names, integers as strings or numbers, enums
as names or numbers), and on the same exports with values broken at random (nulls, wrong types,
both names of a field, two oneof members, unknown and extension-like keys, bad base64, numbers
out of range, non-finite doubles, surrogates)."""

from __future__ import annotations

import base64
import copy
import json
import random
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from service.test_otlp_span_json import _repeating_request, _request

from trackd.entities import otlp, otlp_json


def _reference(body: bytes) -> Any:
    """What parse_request answered before the fast path: the message, or the error's text."""
    try:
        data = json.loads(body)
        otlp._hex_ids_to_base64(data)
        request = ExportTraceServiceRequest()
        ParseDict(data, request, ignore_unknown_fields=True)
        return request
    except Exception as exc:  # noqa: BLE001 - compared below, whatever it is
        return f"{type(exc).__name__}: {exc}"


def _parsed(body: bytes) -> Any:
    try:
        return otlp.parse_request(body, "application/json")
    except otlp.OtlpError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


def _check(body: bytes) -> bool:
    """The fast path's answer is the reference's; True when the fast path took the body."""
    reference, got = _reference(body), _parsed(body)
    data = json.loads(body) if not isinstance(reference, str) else None
    if isinstance(reference, str):
        assert not isinstance(got, ExportTraceServiceRequest), reference
        assert reference.split(": ", 1)[-1] in str(got) or isinstance(got, str)
        return False
    if isinstance(got, otlp.OtlpError):  # "no spans found": after parsing, either way
        assert not any(s.spans for rs in reference.resource_spans for s in rs.scope_spans)
        return False
    assert isinstance(got, ExportTraceServiceRequest), got
    assert got == reference
    assert got.SerializeToString(deterministic=True) == \
        reference.SerializeToString(deterministic=True)
    assert data is not None
    otlp._hex_ids_to_base64(data)
    return otlp_json.fill(data, ExportTraceServiceRequest())


def _hex_ids(data: Any) -> Any:
    """OTLP/JSON writes ids in hex, where protobuf's JSON mapping writes base64."""
    if isinstance(data, dict):
        return {k: (base64.b64decode(v).hex() if k in _ID_KEYS and isinstance(v, str)
                    else _hex_ids(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_hex_ids(v) for v in data]
    return data


_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def _as_json(request: ExportTraceServiceRequest, rng: random.Random) -> Any:
    data = MessageToDict(request, preserving_proto_field_name=rng.random() < 0.3,
                         use_integers_for_enums=rng.random() < 0.3)
    return _hex_ids(data)


def _numbers_as_ints(data: Any) -> Any:
    """Some SDKs write 64-bit integers as JSON numbers, not strings."""
    if isinstance(data, dict):
        return {k: (int(v) if isinstance(v, str) and v.isdigit() and k.endswith(
            ("UnixNano", "unix_nano", "intValue", "int_value")) else _numbers_as_ints(v))
            for k, v in data.items()}
    if isinstance(data, list):
        return [_numbers_as_ints(v) for v in data]
    return data


@pytest.mark.parametrize("seed", range(4))
def test_exports_as_sdks_write_them(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for i in range(60):
        request = _request(rng, rng.randrange(1, 6)) if i % 2 else \
            _repeating_request(rng, rng.randrange(1, 30))
        data = _as_json(request, rng)
        if rng.random() < 0.5:
            data = _numbers_as_ints(data)
        taken += _check(json.dumps(data).encode())
    assert taken > 20  # most plain exports take the fast path


_BREAKERS: list[Any] = [None, "", "x", "12", "-3", "1.5", "NaN", 7, -1, 2**64, 1.5, True, [],
                        {}, [None], [{}], {"x": 1}, "\ud800", "a\udc00b", "!!notb64", "AAEC",
                        float("nan"), float("inf"), "SPAN_KIND_SERVER", "STATUS_CODE_ERROR",
                        "1e3", " 12", "+1", "٣"]


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*path, i))
    return out


def _break(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randrange(1, 3)):
        path = rng.choice(_paths(data)[1:])
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        pick = rng.random()
        if pick < 0.6:
            parent[last] = rng.choice(_BREAKERS)
        elif pick < 0.75 and isinstance(parent, dict) and isinstance(last, str):
            # the field's other name beside it, or a second member of a oneof
            twin = {"traceId": "trace_id", "startTimeUnixNano": "start_time_unix_nano",
                    "stringValue": "intValue", "intValue": "string_value",
                    "scopeSpans": "scope_spans", "parentSpanId": "parent_span_id"}.get(last)
            parent[twin or "[ext]"] = parent[last]
        elif pick < 0.9 and isinstance(parent, dict):
            parent[rng.choice(["unknownField", "[x.y]", "droppedAttributesCount", "flags",
                               "schemaUrl", "links"])] = rng.choice(_BREAKERS)
        elif isinstance(parent, dict):
            del parent[last]
    return data


@pytest.mark.parametrize("seed", range(4))
def test_broken_exports_answer_as_parse_dict_does(seed: int) -> None:
    rng = random.Random(100 + seed)
    for _ in range(150):
        request = _repeating_request(rng, rng.randrange(1, 4))
        data = _as_json(request, rng)
        try:
            body = json.dumps(_break(data, rng), allow_nan=True).encode()
        except (TypeError, ValueError):
            continue
        _check(body)


def test_deep_values_take_parse_dicts_path() -> None:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(40):
        value = {"arrayValue": {"values": [value]}}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0" * 32, "spanId": "1" * 16, "name": "deep",
        "attributes": [{"key": "k", "value": value}]}]}]}]}
    assert not _check(json.dumps(body).encode())


def _one_span(**fields: Any) -> dict[str, Any]:
    span = {"traceId": "0f" * 16, "spanId": "1e" * 8, "name": "s", "kind": 2,
            "startTimeUnixNano": "1796357957013667814", "status": {"code": 1},
            "attributes": [{"key": "k", "value": {"stringValue": "v"}}]}
    span.update(fields)
    return {"resourceSpans": [{"resource": {"attributes": []},
                               "scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}]}]}


@pytest.mark.parametrize("fields", [
    # a field under both its names: the later one counts, a list is replaced, not extended
    {"trace_id": "2d" * 16},
    {"start_time_unix_nano": "5"},
    {"droppedAttributesCount": 3, "dropped_attributes_count": 4},
    {"events": [{"name": "e", "timeUnixNano": "1", "time_unix_nano": "2"}], "links": []},
    # two members of a oneof, null members, values of the wrong kind
    {"attributes": [{"key": "k", "value": {"stringValue": "a", "boolValue": True}}]},
    {"attributes": [{"key": "k", "value": {"stringValue": None, "boolValue": True}}]},
    {"attributes": [{"key": "k", "value": {"intValue": "12", "int_value": "13"}}]},
    {"attributes": [{"key": "k", "value": {"doubleValue": True}}]},
    {"attributes": [{"key": "k", "value": {"doubleValue": "NaN"}}]},
    {"attributes": [{"key": "k", "value": {"doubleValue": 2**70}}]},
    {"attributes": [{"key": "k", "value": {"bytesValue": "_-8="}}]},
    {"attributes": [{"key": "k", "value": {"arrayValue": {"values": [{"intValue": 2**63}]}}}]},
    {"attributes": [{"key": "k", "value": {"kvlistValue": {"values": [{"key": 1}]}}}]},
    {"kind": "SPAN_KIND_CLIENT"}, {"kind": "SPAN_KIND_NOPE"}, {"kind": "3"}, {"kind": True},
    {"kind": 2**40}, {"flags": 2**32}, {"flags": "7"}, {"status": {"code": "STATUS_CODE_ERROR",
                                                                  "message": "m"}},
    {"status": {}}, {"status": None}, {"name": 5}, {"name": "\udc00"}, {"traceState": "\ud800x"},
    {"endTimeUnixNano": -1}, {"endTimeUnixNano": "1_000"}, {"endTimeUnixNano": 1.0},
    {"[ext.field]": 1}, {"someFutureField": {"x": 1}},
])
def test_edge_values_answer_as_parse_dict_does(fields: dict[str, Any]) -> None:
    _check(json.dumps(_one_span(**fields)).encode())


def test_a_list_under_both_names_answers_as_parse_dict_does() -> None:
    # ParseDict clears a repeated field before filling it: the later name's list counts.
    body = _one_span()
    resource_spans = body["resourceSpans"][0]
    resource_spans["scope_spans"] = [{"spans": [dict(resource_spans["scopeSpans"][0]["spans"][0],
                                                     name="other")]}]
    assert not _check(json.dumps(body).encode())
    body["resource_spans"] = [resource_spans]
    assert not _check(json.dumps(body).encode())


def test_first_bodies_filled_at_once_from_several_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tables are made on the first body: a thread must never fill from one half made.
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(7)
    while True:  # an export the fast path takes (no NaN, no negative number...)
        data = _hex_ids(MessageToDict(_repeating_request(rng, 40)))
        otlp._hex_ids_to_base64(data)
        if otlp_json.fill(data, ExportTraceServiceRequest()):
            break
    expected = ExportTraceServiceRequest()
    ParseDict(data, expected, ignore_unknown_fields=True)
    for _ in range(20):
        monkeypatch.setattr(otlp_json, "_tables", {})

        def one(_: int) -> ExportTraceServiceRequest:
            request = ExportTraceServiceRequest()
            assert otlp_json.fill(data, request)
            return request

        with ThreadPoolExecutor(8) as pool:
            assert all(r == expected for r in pool.map(one, range(16)))


@pytest.mark.parametrize("span", [{"name": 5}, {"kind": "SPAN_KIND_NOPE", "name": []},
                                  {"startTimeUnixNano": "soon"}, {"status": {"code": []}}])
def test_a_field_of_the_wrong_type_is_a_bad_export(span: dict[str, Any]) -> None:
    # ParseDict's own error, which mlflow server answers 400 "Invalid OpenTelemetry format"
    # (it reached trackd's client as a 500 before).
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "0f" * 16, "spanId": "1e" * 8, **span}]}]}]}).encode()
    with pytest.raises(otlp.OtlpError, match="Invalid OpenTelemetry format"):
        otlp.parse_request(body, "application/json")
