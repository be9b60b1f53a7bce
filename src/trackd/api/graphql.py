"""``/graphql``: MLflow's GraphQL endpoint (its web UI loads run and experiment pages with it).

The handler reads the request; trackd.graphql.endpoint runs it. GET takes ``query``,
``variables`` (JSON) and ``operationName`` from the query string, POST from a JSON body.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from trackd.api.router import Call
from trackd.errors import invalid_parameter


async def graphql(call: Call) -> Response:
    f = await call.fields()
    query = f.string("query", required=True)
    variables = _variables(f.raw("variables"))
    operation_name = f.string("operationName")
    # graphql-core loads on the first query: servers nobody sends one to never pay for it.
    from trackd.graphql.endpoint import answer

    state = call.request.scope.get("state") or {}
    return await answer(call.services, state.get("trackd_auth_user"), query, variables,
                        operation_name, queries_only=call.request.method == "GET")


def _variables(raw: Any) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):  # GET: a JSON object in the query string
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise invalid_parameter(f"'variables' is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise invalid_parameter("'variables' must be a JSON object.")
    return raw
