"""GenAI trace pages: an experiment's traces and one trace.

Shells, like the registry pages: their script (traces.js) reads the JSON API
(``traces/search``, ``traces/<id>``, ``get-trace-artifact``), so the pages depend only on the
public contract, and a trace's spans are fetched once, after the page shows.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from trackd.errors import MlflowError
from trackd.service.trace_filters import parse_trace_filter


async def traces_page(ui: Any, request: Request, experiment_id: str) -> Response:
    try:
        experiment = await ui.services.experiments.get(int(experiment_id))
    except (ValueError, MlflowError):
        return ui.error_page(request, 404, "Experiment not found",
                             f"No experiment with id {experiment_id}.")
    text = request.query_params.get("filter", "")
    error = None
    try:
        parse_trace_filter(text or None)  # shown inline; the script searches only if valid
    except MlflowError as exc:
        error = exc.message
    return ui.page(request, "traces.html", experiment=experiment, filter=text, error=error)


async def trace_page(ui: Any, request: Request, trace_id: str) -> Response:
    # Who is signed in (auth on): the source of the assessments added on the page.
    user = request.scope.get("state", {}).get("trackd_user")
    return ui.page(request, "trace.html", trace_id=trace_id, user=user)
