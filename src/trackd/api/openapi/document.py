"""Build the OpenAPI 3.0 document from the route table plus the hand-written field schemas.

Everything structural comes from :func:`trackd.api.routes.api_routes`: the paths under each
version prefix (``/api/2.0``, ``/ajax-api/2.0``, ``/api/3.0`` ...), the methods, the path
parameters. The per-resource modules only say what each operation's fields and answer are,
keyed by (method, path after the version prefix) as the route table writes them. A route
without a description, or a description without a route, is a :class:`SchemaCoverageError`:
the document never silently lags behind what the server serves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from trackd import MLFLOW_COMPAT_VERSION, __version__
from trackd.api.openapi import (
    artifacts,
    datasets,
    experiments,
    logged_models,
    registry,
    review,
    runs,
    scorers,
    server,
    trace_metrics,
    traces,
    traces_v2,
    webhooks,
)
from trackd.api.openapi.components import SCHEMAS
from trackd.api.openapi.spec import STRING, Operation, Schema, ref
from trackd.api.router import Route
from trackd.auth import rules

OPENAPI_VERSION = "3.0.3"
_VERSION_PREFIX = re.compile(r"^/(?:api|ajax-api)/\d+\.\d+(?=/)")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::path)?\}")

# Resource modules in the order their tags are listed; the tag is the module's last name.
_MODULES = (experiments, runs, logged_models, artifacts, registry, server, traces, traces_v2,
            trace_metrics,
            webhooks, datasets, scorers, review)

_ERROR_TEXT = {
    400: "Bad request: MLflow's error JSON (usually INVALID_PARAMETER_VALUE)",
    401: "No or wrong credentials (auth on)",
    403: "The caller lacks the permission (auth on)",
    404: "No such resource (RESOURCE_DOES_NOT_EXIST)",
    501: "The artifact store or this server cannot do this (NOT_IMPLEMENTED)",
    503: "Artifact proxying is off (--no-serve-artifacts): plain text",
}


_RANGE_HEADER = {
    "name": "Range",
    "in": "header",
    "required": False,
    "description": "one byte range, `bytes=start-end`, `bytes=start-` or `bytes=-suffix`",
    "schema": {"type": "string"},
}


class SchemaCoverageError(RuntimeError):
    """Routes without an operation description, or descriptions of routes that do not exist."""


def operations() -> dict[tuple[str, str], tuple[str, Operation]]:
    """Every hand-written operation, keyed by (method, path), with its resource tag."""
    out: dict[tuple[str, str], tuple[str, Operation]] = {}
    for module in _MODULES:
        tag = module.__name__.rsplit(".", 1)[-1]
        for key, operation in module.OPERATIONS.items():
            if key in out:
                raise SchemaCoverageError(f"{key} is described twice ({out[key][0]}, {tag})")
            out[key] = (tag, operation)
    return out


def table_key(route: Route) -> tuple[str, str]:
    """(method, path as the route table writes it): the version prefix removed, if any."""
    match = _VERSION_PREFIX.match(route.path)
    return route.method, route.path[match.end():] if match else route.path


def coverage_problems(routes: Iterable[Route]) -> list[str]:
    """What keeps the document from matching the route table; empty when it matches."""
    described = operations()
    keys = {table_key(route) for route in routes}
    problems = [f"no schema for {m} {p}" for m, p in sorted(keys - described.keys())]
    problems += [f"schema for unserved {m} {p}" for m, p in sorted(described.keys() - keys)]
    return problems


def build_document(routes: list[Route], *, static_prefix: str = "", auth: bool = False) -> Schema:
    """The OpenAPI document for ``routes`` as served under ``static_prefix``."""
    problems = coverage_problems(routes)
    if problems:
        raise SchemaCoverageError("; ".join(problems))
    described = operations()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        tag, operation = described[table_key(route)]
        item = paths.setdefault(_PLACEHOLDER.sub(r"{\1}", route.path), {})
        item[route.method.lower()] = _operation(route, tag, operation, auth)
    document: Schema = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "trackd REST API",
            "version": __version__,
            "description": (
                f"MLflow {MLFLOW_COMPAT_VERSION}'s tracking, registry and artifact REST API as "
                "trackd serves it. GET requests carry their fields in the query string, every "
                "other method in a JSON body (DELETE included). Errors are "
                '`{"error_code", "message"}`.'
            ),
        },
        # Relative to where this document is served: the static prefix is the server's root.
        "servers": [{"url": static_prefix or "/"}],
        "tags": [{"name": m.__name__.rsplit(".", 1)[-1]} for m in _MODULES],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
    if auth:
        document["components"]["securitySchemes"] = {
            "basic": {"type": "http", "scheme": "basic"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        document["security"] = [{"basic": []}, {"bearer": []}]
    return document


def _operation(route: Route, tag: str, op: Operation, auth: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": _operation_id(route),
        "tags": [tag],
        "summary": op.summary,
    }
    if op.description:
        out["description"] = op.description
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": {**op.path_params.get(name, STRING), "minLength": 1}}
        for name in _PLACEHOLDER.findall(route.path)
    ]
    if op.kind == "download":
        parameters.append(_RANGE_HEADER)
    # GET fields, and the fields of an upload whose body is the file, are in the query string.
    if op.request is not None and (route.method == "GET" or op.kind == "upload"):
        required = set(op.request.get("required", ()))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in op.request["properties"].items()
        ]
    elif op.request is not None:
        out["requestBody"] = {
            "required": bool(op.request.get("required")),
            "content": {"application/json": {"schema": op.request}},
        }
    if op.kind == "upload":
        out["requestBody"] = {
            "content": {"application/octet-stream": {"schema": {"type": "string",
                                                               "format": "binary"}}},
        }
    if parameters:
        out["parameters"] = parameters
    out["responses"] = _responses(op, auth and not _is_open(route))
    if auth and _is_open(route):
        out["security"] = []
    return out


def _responses(op: Operation, auth: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.kind == "download":
        binary = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
        responses["200"] = {"description": "The file", "content": binary}
        responses["206"] = {"description": "The requested byte range", "content": binary}
        responses["416"] = {"description": "The requested range lies outside the file"}
    else:
        responses["200"] = {
            "description": "Success",
            "content": {"application/json": {"schema": op.response}},
        }
    for status in (*op.errors, *((401, 403) if auth else ())):
        if status in (401, 403, 503):
            content = {"text/plain": {"schema": {"type": "string"}}}
        else:
            content = {"application/json": {"schema": ref("Error")}}
        responses[str(status)] = {"description": _ERROR_TEXT[status], "content": content}
    return responses


def _is_open(route: Route) -> bool:
    """Routes the auth layer lets through without credentials (server-info, as in MLflow)."""
    found = rules.find_rule(route.method, route.path)
    return found is not None and found[0].target == rules.PUBLIC


def _operation_id(route: Route) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", _PLACEHOLDER.sub(r"by_\1", route.path)).strip("_")
    return f"{route.method.lower()}_{words}"
