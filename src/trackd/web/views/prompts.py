"""Prompt registry pages: the prompts list and one prompt (versions, aliases, template, traces).

MLflow keeps prompts in the model registry (registered models tagged
``mlflow.prompt.is_prompt = true``, the template in each version's ``mlflow.prompt.text`` tag),
so, like the registry pages, these are shells whose script (prompts.js) reads the JSON API.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response


async def prompts_page(ui: Any, request: Request) -> Response:
    return ui.page(request, "prompts.html", text=request.query_params.get("q", ""))


async def prompt_page(ui: Any, request: Request, name: str) -> Response:
    return ui.page(request, "prompt.html", name=name,
                   version=request.query_params.get("version", ""))
