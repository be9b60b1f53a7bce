"""The one route table: every MLflow endpoint trackd serves, and where it is mounted.

Paths are written after the version prefix. Each tracking and registry route is served under
``/api/2.0`` (the Python client) and ``/ajax-api/2.0`` (web UIs); a few MLflow 3 routes live
under ``3.0`` instead.
"""

from __future__ import annotations

from trackd.api import experiments, metrics, misc, runs
from trackd.api.router import Handler, Route

# (method, path after the version prefix, handler)
TRACKING_V2: list[tuple[str, str, Handler]] = [
    ("POST", "/mlflow/experiments/create", experiments.create),
    ("GET", "/mlflow/experiments/get", experiments.get),
    ("GET", "/mlflow/experiments/get-by-name", experiments.get_by_name),
    ("POST", "/mlflow/experiments/search", experiments.search),
    ("GET", "/mlflow/experiments/search", experiments.search),
    ("POST", "/mlflow/experiments/update", experiments.update),
    ("POST", "/mlflow/experiments/delete", experiments.delete),
    ("POST", "/mlflow/experiments/restore", experiments.restore),
    ("POST", "/mlflow/experiments/set-experiment-tag", experiments.set_tag),
    ("POST", "/mlflow/experiments/delete-experiment-tag", experiments.delete_tag),
    ("POST", "/mlflow/runs/create", runs.create),
    ("GET", "/mlflow/runs/get", runs.get),
    ("POST", "/mlflow/runs/update", runs.update),
    ("POST", "/mlflow/runs/delete", runs.delete),
    ("POST", "/mlflow/runs/restore", runs.restore),
    ("POST", "/mlflow/runs/set-tag", runs.set_tag),
    ("POST", "/mlflow/runs/delete-tag", runs.delete_tag),
    ("POST", "/mlflow/runs/log-parameter", runs.log_param),
    ("POST", "/mlflow/runs/log-metric", runs.log_metric),
    ("POST", "/mlflow/runs/log-batch", runs.log_batch),
    ("POST", "/mlflow/runs/outputs", runs.log_outputs),
    ("POST", "/mlflow/runs/log-inputs", runs.log_inputs),
    ("GET", "/mlflow/metrics/get-history", metrics.get_history),
    ("GET", "/mlflow/metrics/get-history-bulk-interval", metrics.get_history_bulk_interval),
]

SERVER_V3: list[tuple[str, str, Handler]] = [
    ("GET", "/mlflow/server-info", misc.server_info),
]


def api_routes() -> list[Route]:
    routes: list[Route] = []
    for table, version in ((TRACKING_V2, "2.0"), (SERVER_V3, "3.0")):
        for prefix in (f"/api/{version}", f"/ajax-api/{version}"):
            routes.extend(Route(method, prefix + path, handler) for method, path, handler in table)
    return routes
