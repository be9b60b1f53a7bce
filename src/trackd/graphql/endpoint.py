"""Run one GraphQL request and answer it in MLflow's shape.

``{"data": ..., "errors": [message, ...] | null}`` with status 200, the errors plain strings as
MLflow sends them. Two things MLflow answers with an HTML 500 get a 400 here instead: a query
that does not parse (answered in the same GraphQL shape) and a mutation sent with GET (a link
must never be able to make one, even though no mutation changes anything today).
"""

from __future__ import annotations

import logging
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)
from starlette.responses import Response

from trackd.api._http import json_response
from trackd.errors import MlflowError
from trackd.graphql import limits, schema
from trackd.graphql.access import Access
from trackd.graphql.resolvers import Context

log = logging.getLogger("trackd.graphql")


async def answer(services: Any, user: Any, query: str, variables: dict[str, Any] | None,
                 operation_name: str | None, *, queries_only: bool) -> Response:
    try:
        document = parse(query)
    except GraphQLError as exc:
        return _answer(None, [exc], status=400)
    if queries_only and _mutates(document, operation_name):
        return _answer(None, ["Mutations are served over POST only."], status=400)
    settings = services.settings
    bounds = limits.Limits(settings.graphql_max_root_fields, settings.graphql_max_aliases)
    refused = limits.violation(document, bounds)
    if refused is not None:
        return _answer(None, [refused])
    built = schema.build()
    problems = validate(built, document)
    if problems:
        return _answer(None, problems)
    context = Context(services=services, access=Access(services.extra.get("auth"), user))
    result = execute(built, document, variable_values=variables, operation_name=operation_name,
                     context_value=context, field_resolver=schema.field_value)
    if isawaitable(result):
        result = await result
    return _answer(result.data, result.errors or [])


def _mutates(document: DocumentNode, operation_name: str | None) -> bool:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None
              or (o.name is not None and o.name.value == operation_name)]
    return any(o.operation != OperationType.QUERY for o in chosen)


def _message(error: Any) -> str:
    if not isinstance(error, GraphQLError):
        return str(error)
    cause = error.original_error
    if cause is not None and not isinstance(cause, MlflowError):
        # A fault of trackd's, not of the query: logged in full, not shown to the caller.
        log.error("GraphQL field %s failed", error.path, exc_info=cause)
        return "Internal error while resolving this field; the server log has the details."
    return error.message


def _answer(data: Any, errors: list[Any], status: int = 200) -> Response:
    messages = [_message(e) for e in errors]
    return json_response({"data": data, "errors": messages or None}, status)
