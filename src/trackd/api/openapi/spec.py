"""The small vocabulary the per-resource modules describe their operations in.

An :class:`Operation` holds only what cannot be read off the route table: a summary, the
request *message* (its fields, their types, which are required) and the 200 response. Where
the fields travel is decided by the builder from the HTTP method, exactly as the handlers read
them (:mod:`trackd.api._http`): a query string for GET, a JSON body for everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
# Names and keys MLflow refuses when empty ("Missing value for required parameter").
NAME: Schema = {"type": "string", "minLength": 1}
# Every integer field is parsed as a 64-bit integer (protobuf int64/int32 alike).
INT64: Schema = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}
BOOLEAN: Schema = {"type": "boolean"}
# Doubles follow protobuf's JSON rules: a number, or one of three strings for non-finite values.
DOUBLE: Schema = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]},
    ]
}
# What the server answers when there is nothing to say: MLflow's empty message.
EMPTY: Schema = {"type": "object"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(values: tuple[str, ...] | list[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def text(description: str, *, min_length: int = 0) -> Schema:
    out: Schema = {"type": "string", "description": description}
    if min_length:
        out["minLength"] = min_length
    return out


def limited(max_length: int, description: str = "", *, min_length: int = 0) -> Schema:
    """A string the server refuses (400) beyond ``max_length`` characters: most limits are the
    width of the column the value is stored in."""
    out: Schema = {"type": "string", "maxLength": max_length}
    if min_length:
        out["minLength"] = min_length
    if description:
        out["description"] = description
    return out


def message(required: tuple[str, ...] = (), /, **properties: Schema) -> Schema:
    """An object schema: the named properties, of which ``required`` must be present."""
    unknown = set(required) - set(properties)
    if unknown:
        raise ValueError(f"required fields without a schema: {sorted(unknown)}")
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


Kind = Literal["json", "download", "upload"]


@dataclass(frozen=True)
class Operation:
    """One route's description, keyed in its resource module by (method, path).

    ``kind``: ``json`` answers a JSON object; ``download`` streams a file (with Range support);
    ``upload`` takes the raw request body as the file (the artifact proxy's PUT).
    """

    summary: str
    request: Schema | None = None
    response: Schema = field(default_factory=lambda: dict(EMPTY))
    kind: Kind = "json"
    path_params: Mapping[str, Schema] = field(default_factory=dict)
    # Statuses besides 200 that the operation answers with MLflow's error JSON.
    errors: tuple[int, ...] = (400, 404)
    description: str | None = None


Operations = dict[tuple[str, str], Operation]
