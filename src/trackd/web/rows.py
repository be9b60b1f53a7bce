"""Rows of the runs table as HTML, built in Python.

A page of 1,000 runs with 40 columns is 40,000 cells; a Jinja macro per cell costs about ten
times what an f-string with ``escape`` does, so the table body is the one part of the UI not
written as a template. Every value passes through ``escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from markupsafe import Markup, escape

from trackd.web.columns import Column, RunRow
from trackd.web.render import format_duration, format_number


def time_html(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return (f'<time datetime="{moment.isoformat()}" data-ms="{ms}">'
            f'{moment.strftime("%Y-%m-%d %H:%M:%S UTC")}</time>')


def status_html(status: str | None) -> str:
    text = escape((status or "RUNNING").lower())
    return f'<span class="badge status-{text}">{text}</span>'


def _cell(column: Column, row: RunRow) -> str:
    value = column.value(row)
    if value is None or value == "":
        return '<td class="num dim">–</td>' if column.kind == "m" else '<td class="dim">–</td>'
    if column.kind == "m":
        return f'<td class="num" title="{escape(str(value))}">{escape(format_number(value))}</td>'
    text = escape(value)
    return f'<td class="truncate" title="{text}">{text}</td>'


def row_html(row: RunRow, columns: Sequence[Column], root: str, group: int | None = None) -> Markup:
    info = row.run.info
    href = f"{escape(root)}/runs/{escape(info.run_id)}"
    name = escape(row.name)
    member = f' data-member="{group}"' if group is not None else ""
    running = (f' data-running-since="{info.start_time}"'
               if info.status == "RUNNING" and info.start_time is not None else "")
    cells = "".join(_cell(c, row) for c in columns)
    run_id = escape(info.run_id)
    return Markup(
        f'<tr data-run="{run_id}" data-href="{href}"{member}>'
        f'<td class="select"><input type="checkbox" class="run-select" value="{run_id}"'
        f' aria-label="Select {name}"></td>'
        f'<td class="name"><a href="{href}">{name}</a></td>'
        f"<td>{status_html(info.status)}</td>"
        f'<td class="nowrap">{time_html(info.start_time)}</td>'
        f'<td class="num nowrap"{running}>{format_duration(info.start_time, info.end_time)}</td>'
        f'<td class="truncate">{escape(info.user_id or "")}</td>'
        f"{cells}</tr>\n"
    )
