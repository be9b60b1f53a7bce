"""Request fields in, JSON out: the small HTTP vocabulary every handler uses.

MLflow clients send POST/PATCH/DELETE fields as a JSON body (DELETE included) and GET fields
as a query string, where every value is a string and booleans are spelt ``True``/``False``.
:class:`Fields` hides that difference and checks types the way MLflow's proto parsing does, so
that a wrong type is a 400 ``INVALID_PARAMETER_VALUE`` and never a traceback.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from trackd.api import nul
from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError, invalid_parameter, missing_parameter
from trackd.service.validation import parse_double

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
_JSON_TYPE = (b"content-type", b"application/json")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Where a handler notes how many metric points its request stored (request.state), for the
# ingest counter of /metrics.
POINTS_STATE_KEY = "trackd_metric_points"

# No MLflow request nests deeper than a handful of levels. The limit keeps a hostile body from
# reaching code that recurses (repr() in error messages; orjson.dumps gives up at 254 levels).
# orjson's parser has its own limit (1,024 levels) and never exhausts the stack itself.
MAX_JSON_DEPTH = 64
_TOO_DEEP = (
    f"The request body nests JSON deeper than {MAX_JSON_DEPTH} levels, more than any MLflow "
    "request needs."
)


def json_body(payload: Any) -> bytes:
    return orjson.dumps(payload, option=_JSON_OPTIONS)


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json_body(payload), status_code=status, media_type="application/json")


# Answers larger than this go gzip-compressed to a client that accepts it (level 1: a 30,000-span
# outline, 6.5 MB, shrinks ~15x in ~10 ms of CPU; what a link slower than loopback gains).
_GZIP_MIN_BYTES = 64 * 1024


def big_json_response(scope: Scope, payload: Any) -> Response:
    """A JSON answer that may be large (trackd's own UI routes), gzip when the client accepts."""
    body = json_body(payload)
    if len(body) >= _GZIP_MIN_BYTES and _accepts_gzip(scope):
        return Response(gzip.compress(body, compresslevel=1), media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, media_type="application/json")


def _accepts_gzip(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"accept-encoding":
            return b"gzip" in value
    return False


def error_body(error: MlflowError) -> tuple[int, bytes]:
    return error.http_status, json_body(error.to_dict())


def error_response(error: MlflowError) -> Response:
    return json_response(error.to_dict(), error.http_status)


async def send_json(send: Send, status: int, body: bytes) -> None:
    """The two messages of a JSON answer, with the headers ``json_response`` gives it."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", b"%d" % len(body)), _JSON_TYPE]})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    """A whole request body, as Starlette's ``Request.body()`` reads it (a client that hangs up
    meanwhile raises ``ClientDisconnect``)."""
    message = await receive()
    body: bytes = message.get("body", b"") if message["type"] == "http.request" else b""
    if message["type"] == "http.request" and not message.get("more_body", False):
        return body  # the usual case: one message holds the whole (small) body
    chunks = [body]
    while message["type"] == "http.request" and message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    return b"".join(chunks)


def content_type(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return str(value.decode("latin-1"))
    return ""


async def read_fields(request: Request) -> Fields:
    if request.method == "GET":
        query = fields_from_pairs(request.query_params.multi_items())
        if nul.fields_hold_nul(None, query):
            raise nul.refused("query string")
        return Fields(query, from_query=True)
    return parse_body_fields(await request.body(), request.headers.get("content-type", ""))


def parse_body_fields(body: bytes, content_type: str) -> Fields:
    if not body.strip():
        return Fields({}, from_query=False)
    if "json" not in content_type:
        raise invalid_parameter("Bad Request. Content-Type must be one of ['application/json'].")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc):
            raise invalid_parameter(_TOO_DEEP) from None
        raise invalid_parameter(f"Malformed JSON in the request body: {exc}") from exc
    if not isinstance(data, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    if too_deep(body, data):
        raise invalid_parameter(_TOO_DEEP)
    if nul.fields_hold_nul(body, data):
        raise nul.refused("request body")
    return Fields(data, from_query=False)


def too_deep(body: bytes, data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests more than ``limit`` arrays/objects.

    Cheap for ordinary bodies: a body with at most ``limit`` opening brackets cannot nest
    deeper, and counting bytes runs in C. Bigger ones (a 1,000-metric log-batch) are walked
    without recursion, looking only at containers (about 0.3 ms for that batch).
    """
    if body.count(b"{") + body.count(b"[") <= limit:
        return False
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if type(node) is dict else node:
            kind = type(child)
            if kind is dict or kind is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def fields_from_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query-string pairs as fields: a repeated name becomes a list of its values."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            existing = data[key]
            data[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[key] = value
    return data


class Fields:
    """Typed access to request fields; each getter raises MLflow's error for a bad value."""

    def __init__(self, data: dict[str, Any], *, from_query: bool) -> None:
        self.data = data
        self.from_query = from_query

    def __contains__(self, name: str) -> bool:
        return self.data.get(name) is not None

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def string(self, name: str, *, required: bool = False, default: str | None = None) -> Any:
        value = self.data.get(name)
        if isinstance(value, list) and self.from_query and value:
            value = value[-1]
        if value is None or (required and value == ""):
            if required:
                raise missing_parameter(name)
            return default
        if not isinstance(value, str):
            raise _bad_type(name, value, "a string")
        return value

    def first_string(self, *names: str, required: bool = True) -> Any:
        """The first of several spellings that is present (``run_id`` or legacy ``run_uuid``)."""
        for name in names:
            value = self.string(name)
            if value:
                return value
        if required:
            raise missing_parameter(names[0])
        return None

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> Any:
        value = self.data.get(name)
        if isinstance(value, list) and self.from_query and value:
            value = value[-1]
        if value is None or value == "":
            if required:
                raise missing_parameter(name)
            return default
        if isinstance(value, bool):
            raise _bad_type(name, value, "an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _bad_type(name, value, "an integer") from None
        if not isinstance(value, int) or not _INT64_MIN <= value <= _INT64_MAX:
            raise _bad_type(name, value, "a 64-bit integer")
        return value

    def number(self, name: str, *, required: bool = False) -> Any:
        return parse_double(name, self.data.get(name), required=required)

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid_parameter(f"Invalid boolean value: {value}, must be 'true' or 'false'.")

    def string_list(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, str) and self.from_query:
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad_type(name, value, "a list of strings")
        return value

    def objects(self, name: str) -> list[dict[str, Any]]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _bad_type(name, value, "a list of objects")
        return value

    def enum(self, name: str, allowed: Iterable[str], *, default: str | None = None) -> Any:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        options = tuple(allowed)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(options):
            return options[value - 1]  # protobuf enums may arrive as their numbers
        if not isinstance(value, str) or value not in options:
            raise invalid_parameter(
                f"Invalid value {value!r} for parameter '{name}': expected one of {list(options)}"
            )
        return value


def _bad_type(name: str, value: Any, expected: str) -> MlflowError:
    """MLflow's wording (clients and MLflow's own tests match on it: the value as JSON, its
    Python type as the hint), then what the parameter takes, which MLflow leaves out."""
    try:
        shown = orjson.dumps(value).decode()
    except TypeError:
        shown = repr(value)
    if len(shown) > 100:
        shown = shown[:100] + "..."
    return MlflowError(
        f"Invalid value {shown} for parameter '{name}' supplied:  Hint: Value was of type "
        f"'{type(value).__name__}'. See the API docs for more information about request "
        f"parameters; expected {expected}.",
        INVALID_PARAMETER_VALUE,
    )
