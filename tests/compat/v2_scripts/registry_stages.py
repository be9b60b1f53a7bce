"""2.x client: register run models, stage transitions with and without archiving, load by stage.

Usage: python registry_stages.py TRACKING_URI  (run with the mlflow-skinny 2.x venv; exits
non-zero on the first failed check and prints OK at the end)
"""

from __future__ import annotations

import os
import sys
import uuid

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# Fail fast on a broken server instead of the client's minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

if len(sys.argv) != 2:
    sys.exit(f"usage: {sys.argv[0]} TRACKING_URI")
assert mlflow.__version__.startswith("2."), mlflow.__version__
mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient(sys.argv[1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


X, y = load_iris(return_X_y=True)
mlflow.set_experiment(unique("v2-registry"))
models, run_ids = [], []
for c in (1.0, 0.01, 0.1):
    clf = LogisticRegression(C=c, max_iter=500).fit(X, y)
    with mlflow.start_run() as run:
        # Requirements given: inferring them costs the client a minute of import scanning.
        mlflow.sklearn.log_model(clf, "model", pip_requirements=["mlflow", "scikit-learn"])
    models.append(clf)
    run_ids.append(run.info.run_id)

name = unique("v2-clf")
versions = [mlflow.register_model(f"runs:/{run_id}/model", name) for run_id in run_ids]
assert [v.version for v in versions] == ["1", "2", "3"], versions
# 2.x resolves runs:/ itself and registers the run's artifact location.
root = client.get_run(run_ids[0]).info.artifact_uri
assert versions[0].source == f"{root}/model", versions[0].source
assert versions[0].run_id == run_ids[0] and versions[0].status == "READY"
assert client.get_model_version_download_uri(name, "1") == f"{root}/model"

# Stages, as 2.x users drive them.
client.transition_model_version_stage(name, "1", "Production")
client.transition_model_version_stage(name, "2", "Staging")
client.transition_model_version_stage(name, "3", "Production", archive_existing_versions=False)
stages = {v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")}
assert stages == {"1": "Production", "2": "Staging", "3": "Production"}, stages
latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
assert latest == {"Production": "3", "Staging": "2"}, latest
prod = np.asarray(mlflow.pyfunc.load_model(f"models:/{name}/Production").predict(X))
assert np.array_equal(prod, models[2].predict(X))
staging = np.asarray(mlflow.pyfunc.load_model(f"models:/{name}/Staging").predict(X))
assert np.array_equal(staging, models[1].predict(X))
assert np.array_equal(
    np.asarray(mlflow.pyfunc.load_model(f"models:/{name}/1").predict(X)), models[0].predict(X)
)

moved = client.transition_model_version_stage(name, "2", "production",
                                              archive_existing_versions=True)
assert moved.current_stage == "Production", moved
stages = {v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")}
assert stages == {"1": "Archived", "2": "Production", "3": "Archived"}, stages
assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["2"]
assert np.array_equal(
    np.asarray(mlflow.pyfunc.load_model(f"models:/{name}/Production").predict(X)),
    models[1].predict(X),
)
client.transition_model_version_stage(name, "2", "None")
assert client.get_model_version(name, "2").current_stage == "None"

try:
    client.transition_model_version_stage(name, "1", "Prod")
except MlflowException as exc:
    assert exc.error_code == "INVALID_PARAMETER_VALUE", exc.error_code
else:
    raise AssertionError("an unknown stage was accepted")

# Aliases and deletes from a 2.x client, too.
client.set_registered_model_alias(name, "champion", "3")
assert client.get_model_version_by_alias(name, "champion").version == "3"
client.delete_model_version(name, "1")
assert sorted(v.version for v in client.search_model_versions(f"name='{name}'")) == ["2", "3"]
client.delete_registered_model(name)
assert client.search_registered_models(f"name='{name}'") == []
print("OK")
