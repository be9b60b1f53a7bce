"""The trace page's span outline (trackd's own web UI routes): parse, call
service/span_outline.py, serialize."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from trackd.api._http import big_json_response
from trackd.api.router import Call


async def outline(call: Call) -> Response:
    found = await call.services.span_outline.outline(call.params["trace_id"])
    return big_json_response(call.scope, {"source": found.source,
                                          "spans": [span.to_json() for span in found.spans]})


async def span(call: Call) -> dict[str, Any]:
    f = await call.fields()
    span_id = f.string("span_id", required=True)
    return {"span": await call.services.span_outline.span(call.params["trace_id"], span_id)}
