"""The web UI as one ASGI app: a small route table of pages plus the static files.

``TrackdApp`` hands a request here when ``handles(path)`` says the path is a page (the path
has the static prefix already removed, and ``root_path`` carries it). Views read data through
the services, never SQL; the registry and artifact pages fetch the JSON API from the browser.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from trackd.errors import MlflowError
from trackd.web.pages import is_page
from trackd.web.render import Templates
from trackd.web.static import StaticFiles
from trackd.web.views import compare, experiments, prompts, registry, run, runs_table, traces

log = logging.getLogger("trackd.web")

View = Callable[..., Awaitable[Response]]

# First match wins; names in (?P<...>) become keyword arguments of the view.
_ROUTES: list[tuple[re.Pattern[str], View]] = [
    (re.compile(r"^/experiments/?$"), experiments.list_page),
    (re.compile(r"^/experiments/(?P<experiment_id>[^/]+)/?$"), runs_table.runs_page),
    (re.compile(r"^/experiments/(?P<experiment_id>[^/]+)/traces/?$"), traces.traces_page),
    (re.compile(r"^/traces/(?P<trace_id>[^/]+)/?$"), traces.trace_page),
    (re.compile(r"^/runs/(?P<run_id>[^/]+)/?$"), run.run_page),
    (re.compile(r"^/compare/?$"), compare.compare_page),
    (re.compile(r"^/models/?$"), registry.models_page),
    (re.compile(r"^/models/(?P<name>.+)/versions/(?P<version>[^/]+)/?$"), registry.version_page),
    (re.compile(r"^/models/(?P<name>.+?)/?$"), registry.model_page),
    (re.compile(r"^/logged-models/(?P<model_id>[^/]+)/?$"), registry.logged_model_page),
    (re.compile(r"^/prompts/?$"), prompts.prompts_page),
    (re.compile(r"^/prompts/(?P<name>.+?)/?$"), prompts.prompt_page),
]


# The pages load scripts and styles from /static only and build their content with
# textContent, so no inline script is needed: an injected <script> or on* handler would not run.
# Inline style attributes (run colour swatches) are allowed; scripts set styles through the DOM.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class WebUI:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.static = StaticFiles()
        self.templates = Templates(self.static)
        # Pages and assets are text that compresses 5-10x; the API is left as it is.
        self._app = GZipMiddleware(self._dispatch, minimum_size=1024, compresslevel=6)

    @staticmethod
    def handles(path: str) -> bool:
        return is_page(path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._respond(request, scope["path"])
        if (response.media_type or "").startswith("text/html"):
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        await response(scope, receive, send)

    async def _respond(self, request: Request, path: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
        root = request.scope.get("root_path", "").rstrip("/")
        if path == "/":
            return RedirectResponse(root + "/experiments", status_code=302)
        if path.startswith("/static/"):
            return self.static.response(request, path[len("/static/") :])
        for pattern, view in _ROUTES:
            match = pattern.match(path)
            if match:
                return await self._call(view, request, match.groupdict())
        return self.error_page(request, 404, "Page not found", f"No page at {path}.")

    async def _call(self, view: View, request: Request, params: dict[str, str]) -> Response:
        try:
            return await view(self, request, **params)
        except MlflowError as exc:
            return self.error_page(request, exc.http_status, exc.code, exc.message)
        except Exception:
            log.exception("error rendering %s", request.url.path)
            return self.error_page(
                request, 500, "Internal error", "The page failed to render; see the server log."
            )

    def error_page(self, request: Request, status: int, title: str, message: str) -> Response:
        return self.templates.render(
            request, "error.html", {"title": title, "message": message, "status": status},
            status=status,
        )

    def page(self, request: Request, template: str, **context: Any) -> Response:
        return self.templates.render(request, template, context)
