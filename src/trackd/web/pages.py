"""Which paths are web UI pages: kept apart from the UI itself, so that the app can route
without loading the UI (templates, jinja2, markdown) before the first page is asked for."""

from __future__ import annotations

PAGE_PREFIXES = ("/static/", "/experiments", "/runs/", "/compare", "/models", "/logged-models",
                 "/traces/")


def is_page(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


def is_mlflow_ui_path(path: str) -> bool:
    """Where `--mlflow-ui` serves MLflow's UI, as `mlflow server` does: index.html at / and
    its assets under /static-files/ (trackd.web.mlflow_ui)."""
    return path == "/" or path.startswith("/static-files/")
