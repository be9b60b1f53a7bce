"""Drive the installed mlflow 3.18 on a database, in a subprocess.

A subprocess keeps mlflow's engine caches, logging setup and warnings out of the test process,
and is how users run it anyway (`mlflow server`, `mlflow db upgrade`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

_TIMEOUT = 300

# Creates the schema exactly as `mlflow server` does on an empty database.
_CREATE = """
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
SqlAlchemyStore(URL, ARTIFACTS).engine.dispose()
"""

# A short tracking + registry workflow through mlflow's own stores; prints what it read back.
_WORKFLOW = """
import json
from mlflow.entities import Metric, Param, RunTag
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

store = SqlAlchemyStore(URL, ARTIFACTS)
exp_id = store.create_experiment("schema-check")
run = store.create_run(exp_id, "someone", 1700000000000, [RunTag("t", "v")], "r1")
run_id = run.info.run_id
store.log_batch(
    run_id,
    metrics=[Metric("acc", float("nan"), 1700000000001, 0), Metric("acc", 0.5, 1700000000002, 1)],
    params=[Param("lr", "0.1")],
    tags=[RunTag("k", "w")],
)
found = store.search_runs([exp_id], "metrics.acc >= 0 and params.lr = '0.1' and tags.k = 'w'", 1)
registry = RegistryStore(URL)
registry.create_registered_model("schema-model")
version = registry.create_model_version("schema-model", "runs:/" + run_id + "/m", run_id)
registry.set_registered_model_alias("schema-model", "champion", version.version)
print(json.dumps({
    "experiment_id": exp_id,
    "runs": [r.info.run_id for r in found],
    "run_id": run_id,
    "params": store.get_run(run_id).data.params,
    "history": [m.step for m in store.get_metric_history(run_id, "acc")],
    "alias_version": registry.get_model_version_by_alias("schema-model", "champion").version,
}))
store.engine.dispose()
registry.engine.dispose()
"""


def _run_python(code: str, url: str, artifacts: Path) -> str:
    prelude = f"URL = {url!r}\nARTIFACTS = {str(artifacts)!r}\n"
    return _run([sys.executable, "-c", prelude + textwrap.dedent(code)])


def _run(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)[:300]} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n"
            f"--- stderr\n{proc.stderr[-8000:]}"
        )
    return proc.stdout


def create_schema(url: str, artifacts: Path) -> None:
    """Let mlflow 3.18 build its schema on the (empty) database at ``url``."""
    _run_python(_CREATE, url, artifacts)


def workflow(url: str, artifacts: Path) -> dict[str, Any]:
    """Run a tracking and registry round trip through mlflow's stores; return what it read."""
    out = _run_python(_WORKFLOW, url, artifacts)
    return dict(json.loads(out.strip().splitlines()[-1]))


def db_upgrade(url: str) -> None:
    """`mlflow db upgrade <url>`, as a user would type it."""
    _run([sys.executable, "-m", "mlflow", "db", "upgrade", url])
