"""One run: overview (info, description, params, metrics, tags, inputs, models), charts of its
metrics, and its artifacts. Tabs and chart options live in the URL.

The overview is rendered here from ``services.runs.get``. Charts and the artifact browser are
scripts that read the JSON API (``metrics/get-history-bulk-interval``, ``artifacts/list`` ...),
because they redraw and poll without reloading the page.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from trackd.errors import MlflowError
from trackd.service.validation import check_run_id

TABS = ("overview", "charts", "artifacts")
NOTE_TAG = "mlflow.note.content"
PARENT_TAG = "mlflow.parentRunId"
# System tags shown in the run's header rather than in the tag table.
INFO_TAGS = {
    "mlflow.source.name": "Source",
    "mlflow.source.type": "Source type",
    "mlflow.source.git.commit": "Git commit",
    "mlflow.source.git.branch": "Git branch",
    "mlflow.source.git.repoURL": "Git repository",
    "mlflow.project.entryPoint": "Entry point",
    "mlflow.databricks.notebookPath": "Notebook",
}
DATASET_CONTEXT_TAG = "mlflow.data.context"


async def run_page(ui: Any, request: Request, run_id: str) -> Response:
    run = await ui.services.runs.get(check_run_id(run_id))
    experiment = None
    # A run whose experiment row is gone still shows; the breadcrumb says so.
    with contextlib.suppress(MlflowError):
        experiment = await ui.services.experiments.get(run.info.experiment_id)
    query = request.query_params
    tab = query.get("tab", "overview")
    if tab not in TABS:
        tab = "overview"
    tags = {k: v or "" for k, v in run.tags}
    user_tags = sorted((k, v) for k, v in tags.items() if not k.startswith("mlflow."))
    system_tags = sorted(
        (k, v) for k, v in tags.items()
        if k.startswith("mlflow.") and k != NOTE_TAG and k != "mlflow.log-model.history"
    )
    info_rows = [(label, tags[key]) for key, label in INFO_TAGS.items() if tags.get(key)]
    datasets = [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "source_type": d.dataset.source_type,
            "source": d.dataset.source,
            "context": dict(d.tags).get(DATASET_CONTEXT_TAG, ""),
        }
        for d in run.dataset_inputs
    ]
    return ui.page(
        request,
        "run.html",
        run=run,
        info=run.info,
        experiment=experiment,
        tab=tab,
        params=sorted(run.params),
        metrics=sorted(run.metrics, key=lambda m: m.key),
        user_tags=user_tags,
        system_tags=system_tags,
        info_rows=info_rows,
        note=tags.get(NOTE_TAG, ""),
        parent_id=tags.get(PARENT_TAG),
        datasets=datasets,
        model_inputs=run.model_inputs,
        model_outputs=run.model_outputs,
        artifact_path=query.get("path", ""),
    )
