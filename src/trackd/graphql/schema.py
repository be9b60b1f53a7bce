"""The executable schema: MLflow's GraphQL types over the REST-shaped dicts of trackd's services.

Resolvers return the same dicts the REST API sends (snake_case keys, ints for 64-bit values,
"NaN"/"Infinity" strings for non-finite metrics). One default field resolver maps a GraphQL
field onto such a dict (``runUuid`` -> ``run_uuid``), so the schema needs no per-type code, and
fills an absent field the way MLflow's protobuf-backed schema does: empty lists, empty strings,
zero, and empty objects, so that the web UI can read ``run.inputs.datasetInputs`` of a run
without inputs.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    IntValueNode,
    StringValueNode,
    ValueNode,
    build_schema,
)

from trackd.graphql import resolvers

# MLflow's SQL store keeps an infinite metric as the largest double; its GraphQL answers that.
_LARGEST_DOUBLE = 1.7976931348623157e308
_NON_FINITE = {"NaN": None, "Infinity": _LARGEST_DOUBLE, "-Infinity": -_LARGEST_DOUBLE}
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def _long_out(value: Any) -> str:
    return str(int(value))


def _long_in(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"LongString cannot represent {value!r}") from exc


def _long_literal(node: ValueNode, _variables: Any = None) -> int:
    if isinstance(node, IntValueNode | StringValueNode):
        return _long_in(node.value)
    raise ValueError("LongString takes an integer")


@functools.lru_cache(maxsize=512)
def snake_case(name: str) -> str:
    return _CAMEL_HUMP.sub("_", name).lower()


def _absent(kind: GraphQLOutputType) -> Any:
    """What MLflow's schema answers for a field its message does not hold."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return []
    if isinstance(kind, GraphQLObjectType):
        return None if kind.name == "ApiError" else {}
    if isinstance(kind, GraphQLEnumType):
        return None
    if isinstance(kind, GraphQLScalarType):
        return {"String": "", "LongString": 0, "Int": 0, "Float": 0.0, "Boolean": False}.get(
            kind.name)
    return None


def field_value(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
    if not isinstance(source, dict):
        return None
    key = snake_case(info.field_name)
    if key not in source:
        return _absent(info.return_type)
    value = source[key]
    if isinstance(value, str) and value in _NON_FINITE:
        named = info.return_type.of_type if isinstance(info.return_type, GraphQLNonNull) \
            else info.return_type
        if getattr(named, "name", None) == "Float":
            return _NON_FINITE[value]
    return value


@functools.lru_cache(maxsize=1)
def build() -> GraphQLSchema:
    sdl = resources.files("trackd.graphql").joinpath("schema.graphql").read_text("utf-8")
    schema = build_schema(sdl)
    long_string = schema.type_map["LongString"]
    assert isinstance(long_string, GraphQLScalarType)
    long_string.serialize = _long_out  # type: ignore[method-assign]
    long_string.parse_value = _long_in  # type: ignore[method-assign]
    long_string.parse_literal = _long_literal  # type: ignore[method-assign,assignment]
    for type_name, fields in resolvers.FIELDS.items():
        owner = schema.type_map[type_name]
        assert isinstance(owner, GraphQLObjectType)
        for field_name, resolve in fields.items():
            owner.fields[field_name].resolve = resolve
    return schema
