"""Which paths are web UI pages: kept apart from the UI itself, so that the app can route
without loading the UI (templates, jinja2, markdown) before the first page is asked for."""

from __future__ import annotations

PAGE_PREFIXES = ("/static/", "/experiments", "/runs/", "/compare", "/models", "/logged-models",
                 "/traces/", "/prompts")


def is_page(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


# Where `--mlflow-ui` serves MLflow's UI's assets, as `mlflow server` does (trackd.web.mlflow_ui):
# the page loads them from /static-files/; /build/ is the same folder under Flask's default
# static route, which `mlflow server` also answers.
MLFLOW_UI_ASSETS = "/static-files/"
MLFLOW_UI_ASSET_PREFIXES = (MLFLOW_UI_ASSETS, "/build/")


def is_mlflow_ui_path(path: str) -> bool:
    """index.html at / and its assets under /static-files/ (or /build/)."""
    return path == "/" or path.startswith(MLFLOW_UI_ASSET_PREFIXES)
