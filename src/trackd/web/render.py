"""Jinja2 templates and the small formatting vocabulary every page shares.

Pages are rendered on the server so that a table of 100 runs arrives as HTML in one response;
JavaScript only adds what HTML cannot do (charts, the artifact browser, live updates).
Every URL a template writes goes through ``url()``, which puts the request's root path (the
static prefix) in front, so that links keep working behind a platform's proxy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from trackd import __version__
from trackd.web.markdown import render_markdown
from trackd.web.static import StaticFiles


def format_number(value: object) -> str:
    """Metric values as people read them: 6 significant digits, MLflow's names for non-finite."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
            return f"{value:.5g}"
        return f"{value:.6g}"
    return str(value)


def format_duration(start_ms: int | None, end_ms: int | None, now_ms: int | None = None) -> str:
    """'1.2s', '3m 4s', '2h 5m', '3d 4h'; a running run counts up to now."""
    if start_ms is None:
        return ""
    end = end_ms if end_ms is not None else (now_ms if now_ms is not None else _now_ms())
    seconds = max(0, end - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_time(ms: int | None) -> Markup:
    """A <time> element in UTC; the page's script rewrites it in the reader's time zone."""
    if ms is None:
        return Markup("")
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return Markup('<time datetime="{}" data-ms="{}">{}</time>').format(
        moment.isoformat(), ms, moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


class Templates:
    """The template environment plus the static-file table (for cache-busting asset URLs)."""

    def __init__(self, static: StaticFiles) -> None:
        self.static = static
        self.env = Environment(
            loader=PackageLoader("trackd.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["num"] = format_number
        self.env.filters["time"] = format_time
        self.env.filters["markdown"] = render_markdown
        self.env.globals["duration"] = format_duration
        self.env.globals["version"] = __version__

    def render(
        self, request: Request, name: str, context: Mapping[str, Any], status: int = 200
    ) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")

        def url(path: str, query: Mapping[str, Any] | None = None, **more: Any) -> str:
            """``root + path`` with a query; None and '' values are left out."""
            params = {**(query or {}), **more}
            pairs = [(k, v) for k, v in params.items() if v not in (None, "")]
            tail = ("?" + urlencode(pairs, doseq=True)) if pairs else ""
            return root + path + tail

        def asset(name: str) -> str:
            return root + self.static.versioned(name)

        html = self.env.get_template(name).render(
            **context,
            root=root,
            url=url,
            asset=asset,
            q=lambda part: quote(str(part), safe=""),
            request=request,
        )
        return HTMLResponse(
            html,
            status_code=status,
            # Pages show live data: a browser must not reuse an old copy without asking.
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )
