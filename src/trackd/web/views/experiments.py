"""The experiments list: search by name, lifecycle view, order, paging.

Creating, renaming, deleting and restoring are buttons whose script calls the JSON API
(``experiments/create`` ...) and reloads: the UI has no write endpoints of its own, so it
opens no form-post door that the API (JSON only) keeps shut.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from trackd.errors import MlflowError
from trackd.web.data import search_experiments

VIEW_TYPES = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}
ORDERS = {
    "name": "name ASC",
    "-name": "name DESC",
    "created": "creation_time ASC",
    "-created": "creation_time DESC",
    "updated": "last_update_time ASC",
    "-updated": "last_update_time DESC",
}
PAGE_SIZE = 100


def name_filter(text: str) -> str | None:
    """A case-insensitive substring match on the name, in the search grammar."""
    text = text.strip()
    if not text:
        return None
    if "'" not in text:
        return f"name ILIKE '%{text}%'"
    # The grammar has no escape inside '...': a value holding ' is written in "...".
    return f'name ILIKE "%{text.replace(chr(34), "")}%"'


async def list_page(ui: Any, request: Request) -> Response:
    query = request.query_params
    text = query.get("q", "")
    view = query.get("view", "active") if query.get("view") in VIEW_TYPES else "active"
    order = query.get("order", "-updated")
    if order not in ORDERS:
        order = "-updated"
    token = query.get("token") or None
    trail = [t for t in query.get("trail", "").split(",") if t]
    error = None
    experiments: list[Any] = []
    next_token = None
    try:
        experiments, next_token = await search_experiments(
            ui.services,
            # Set by the auth middleware when authentication is on: the list is filtered.
            user=getattr(request.state, "trackd_auth_user", None),
            filter_string=name_filter(text),
            view_type=VIEW_TYPES[view],
            max_results=PAGE_SIZE,
            order_by=[ORDERS[order], "experiment_id ASC"],
            page_token=token,
        )
    except MlflowError as exc:
        if exc.http_status >= 500:
            raise
        error = exc.message
    base = {"q": text, "view": None if view == "active" else view,
            "order": None if order == "-updated" else order}
    next_query = (
        {**base, "token": next_token, "trail": ",".join([*trail, token] if token else []) or None}
        if next_token
        else None
    )
    prev_query = None
    if token:
        prev_query = {**base, "token": trail[-1] if trail else None,
                      "trail": ",".join(trail[:-1]) or None}
    return ui.page(
        request,
        "experiments.html",
        experiments=experiments,
        text=text,
        view=view,
        order=order,
        base=base,
        error=error,
        next_query=next_query,
        prev_query=prev_query,
    )
