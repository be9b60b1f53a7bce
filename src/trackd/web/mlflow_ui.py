"""``trackd server --mlflow-ui``: MLflow's own React UI, served from the installed mlflow package.

trackd ships none of MLflow's files: the UI is the ``server/js/build`` folder of whatever mlflow
wheel is installed beside trackd (the ``mlflow-ui`` extra). It is served where ``mlflow server``
serves it: ``index.html`` at ``/`` and its assets under ``/static-files/`` (and ``/build/``, as
Flask's static route of ``mlflow server``), all under the static prefix; the page loads its
assets by relative URLs and talks to the API under ``ajax-api/`` and ``graphql``, which trackd
serves. trackd's own pages stay at their paths (``/experiments``, ...).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, PlainTextResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from trackd.config import ConfigError
from trackd.web.pages import MLFLOW_UI_ASSET_PREFIXES

# The assets' names carry a content hash: a browser may keep them for four weeks (MLflow's
# figure); index.html names the current ones, so it is never cached.
ASSET_MAX_AGE = 2419200
MISSING = ("--mlflow-ui serves MLflow's web UI from the mlflow package, which is not installed "
           "here. Install it beside trackd (pip install 'trackd[mlflow-ui]'), or run without "
           "--mlflow-ui for trackd's own UI.")


def locate_build() -> Path:
    """The folder holding MLflow's built UI, or a ConfigError saying what to install."""
    spec = find_spec("mlflow")  # finds the package without importing it (that takes seconds)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(MISSING)
    for location in spec.submodule_search_locations:
        build = Path(location) / "server" / "js" / "build"
        if (build / "index.html").is_file():
            return build
    raise ConfigError("--mlflow-ui: the installed mlflow package has no built web UI "
                      "(server/js/build/index.html); install a released mlflow wheel.")


class MlflowUI:
    def __init__(self, build: Path) -> None:
        self.index = build / "index.html"
        self.assets = StaticFiles(directory=build)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["method"] not in ("GET", "HEAD"):
            await PlainTextResponse("Method Not Allowed", 405)(scope, receive, send)
        elif path == "/":
            await FileResponse(self.index, headers={"Cache-Control": "no-cache"})(
                scope, receive, send)
        else:
            prefix = next(p for p in MLFLOW_UI_ASSET_PREFIXES if path.startswith(p))
            asset = {**scope, "path": path[len(prefix) - 1:]}
            try:
                await self.assets(asset, receive, self._cached(send))
            except HTTPException as exc:  # a miss (or a path leaving the folder): no traceback
                await PlainTextResponse(exc.detail, exc.status_code)(scope, receive, send)

    @staticmethod
    def _cached(send: Send) -> Send:
        async def wrapped(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", []))
                headers.append((b"cache-control", f"public, max-age={ASSET_MAX_AGE}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped  # type: ignore[return-value]
