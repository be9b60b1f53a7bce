"""An experiment's runs: one server-side page of a search, as a table the URL describes.

Only one page of runs (100 by default) is ever loaded, whatever the experiment's size: the
filter, order and page token go to the runs search service, so 10,000 runs cost what 100 do.
A filter the search grammar rejects is shown under the filter box, with the table empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from trackd.errors import MlflowError
from trackd.service.validation import parse_experiment_id
from trackd.web.columns import (
    DEFAULT_SORT,
    KIND_LABELS,
    Column,
    available_keys,
    default_columns,
    format_columns,
    group_rows,
    order_by,
    parse_column,
    parse_columns,
    to_rows,
)
from trackd.web.data import search_runs
from trackd.web.rows import row_html

PAGE_SIZES = (25, 50, 100, 250, 500, 1000)
DEFAULT_PAGE_SIZE = 100
VIEW_TYPES = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}
MAX_TRAIL = 50  # page tokens kept for "previous page"; older pages are reached from page 1


@dataclass
class TableState:
    """Everything the runs view shows, read from and written back to the query string."""

    filter: str = ""
    sort: Column = field(default_factory=lambda: parse_column(DEFAULT_SORT[0]))  # type: ignore
    descending: bool = DEFAULT_SORT[1]
    columns: list[Column] | None = None
    group: Column | None = None
    view: str = "active"
    size: int = DEFAULT_PAGE_SIZE
    token: str | None = None
    trail: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TableState:
        state = cls()
        state.filter = query.get("filter", "").strip()
        sort = parse_column(query.get("sort", ""))
        if sort is not None and sort.sortable:
            state.sort = sort
            state.descending = query.get("dir", "desc" if sort.kind == "a" else "asc") == "desc"
        state.columns = parse_columns(query.get("cols"))
        state.group = parse_column(query.get("group", ""))
        if state.group is not None and state.group.kind not in ("p", "t", "a"):
            state.group = None
        state.view = query.get("view", "active")
        if state.view not in VIEW_TYPES:
            state.view = "active"
        try:
            size = int(query.get("size", DEFAULT_PAGE_SIZE))
        except ValueError:
            size = DEFAULT_PAGE_SIZE
        state.size = min(PAGE_SIZES, key=lambda s: abs(s - size))
        state.token = query.get("token") or None
        state.trail = [t for t in query.get("trail", "").split(",") if t][-MAX_TRAIL:]
        return state

    def query(self, **changes: Any) -> dict[str, Any]:
        """The query string of this state with ``changes``; paging restarts unless given."""
        state = replace(self, token=None, trail=[])
        for name, value in changes.items():
            setattr(state, name, value)
        default_sort, default_desc = DEFAULT_SORT
        sorted_default = state.sort.id == default_sort and state.descending == default_desc
        return {
            "filter": state.filter,
            "view": None if state.view == "active" else state.view,
            "sort": None if sorted_default else state.sort.id,
            "dir": None if sorted_default else ("desc" if state.descending else "asc"),
            "cols": None if state.columns is None else format_columns(state.columns),
            "group": state.group.id if state.group else None,
            "size": None if state.size == DEFAULT_PAGE_SIZE else state.size,
            "token": state.token,
            "trail": ",".join(state.trail) or None,
        }

    def sort_query(self, column: Column) -> dict[str, Any]:
        """Clicking a header: sort by it, or flip the direction when it is already the sort."""
        if column == self.sort:
            return self.query(descending=not self.descending)
        return self.query(sort=column, descending=column.kind == "a")

    @property
    def page_number(self) -> int:
        return len(self.trail) + (2 if self.token else 1)


async def runs_page(ui: Any, request: Request, experiment_id: str) -> Response:
    exp_id = parse_experiment_id(experiment_id)
    experiment = await ui.services.experiments.get(exp_id)
    state = TableState.from_query(request.query_params)
    error: str | None = None
    runs: list[Any] = []
    next_token: str | None = None
    try:
        runs, next_token = await search_runs(
            ui.services,
            experiment_id=exp_id,
            filter_string=state.filter or None,
            view_type=VIEW_TYPES[state.view],
            max_results=state.size,
            order_by=order_by(state.sort, state.descending),
            page_token=state.token,
        )
    except MlflowError as exc:
        if exc.http_status >= 500:
            raise
        error = exc.message
    rows = to_rows(runs)
    keys = available_keys(rows, state.columns or [])
    columns = state.columns if state.columns is not None else default_columns(keys)
    metric_keys = [c.key for c in columns if c.kind == "m"]
    groups = group_rows(rows, state.group, metric_keys) if state.group else None
    next_query = (
        state.query(token=next_token, trail=[*state.trail, state.token] if state.token else [])
        if next_token
        else None
    )
    prev_query = None
    if state.token:
        prev_query = state.query(
            token=state.trail[-1] if state.trail else None, trail=state.trail[:-1]
        )
    return ui.page(
        request,
        "runs.html",
        experiment=experiment,
        note=dict(experiment.tags).get("mlflow.note.content") or "",
        state=state,
        rows=rows,
        groups=groups,
        columns=columns,
        keys=keys,
        kind_labels=KIND_LABELS,
        error=error,
        next_query=next_query,
        prev_query=prev_query,
        page_sizes=PAGE_SIZES,
        columns_param=format_columns(columns),
        Column=Column,
        row_html=row_html,
    )
