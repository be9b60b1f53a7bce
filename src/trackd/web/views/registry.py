"""Model registry and logged-model pages.

The registry and logged-model services belong to other modules of trackd; these pages are
shells whose script (registry.js) reads the JSON API (``registered-models/*``,
``model-versions/*``, ``logged-models/*``), so the UI depends only on that public contract.
The server side validates nothing beyond the URL; the API answers errors, shown inline.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response


async def models_page(ui: Any, request: Request) -> Response:
    return ui.page(request, "models.html", text=request.query_params.get("q", ""))


async def model_page(ui: Any, request: Request, name: str) -> Response:
    return ui.page(request, "model.html", name=name)


async def version_page(ui: Any, request: Request, name: str, version: str) -> Response:
    return ui.page(request, "model_version.html", name=name, version=version)


async def logged_model_page(ui: Any, request: Request, model_id: str) -> Response:
    return ui.page(
        request, "logged_model.html", model_id=model_id,
        artifact_path=request.query_params.get("path", ""),
    )
