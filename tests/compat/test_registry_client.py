"""The model registry through the official 3.18 client, against a live server.

Register a logged scikit-learn model twice, move aliases, load ``models:/name@alias`` and
``models:/name/<version>`` with ``pyfunc`` and predict; rename, delete, search and page; stage
transitions. Every test runs against both artifact roots (proxied ``mlflow-artifacts:/`` and a
direct local root), as the model tests do.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from support.server import ServerProcess

from .test_artifacts import direct_server, server  # noqa: F401
from .test_client_2x import python2x  # noqa: F401

pytestmark = pytest.mark.compat

# mlflow.pyfunc warns about its own type hints when first imported (client-side, harmless);
# import it here, quietly, so that the first test to load a model does not turn it into an error.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    import mlflow.pyfunc  # noqa: E402,F401

V2_SCRIPTS = Path(__file__).resolve().parent / "v2_scripts"
# Given explicitly: inferring them makes the client import-scan in a subprocess for a minute.
REQUIREMENTS = ["mlflow", "scikit-learn"]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def train(data: tuple[np.ndarray, np.ndarray], c: float = 1.0) -> LogisticRegression:
    X, y = data
    return LogisticRegression(C=c, max_iter=500).fit(X, y)


def log_model(clf: LogisticRegression) -> str:
    """Log ``clf`` in a fresh run as ``model``; return the run id."""
    with mlflow.start_run() as run:
        mlflow.log_param("C", clf.C)
        mlflow.sklearn.log_model(clf, name="model", pip_requirements=REQUIREMENTS)
    return run.info.run_id


def predictions(uri: str, X: np.ndarray) -> np.ndarray:
    return np.asarray(mlflow.pyfunc.load_model(uri).predict(X))


def test_register_twice_alias_and_load(
    client: MlflowClient, experiment_id: str, data: tuple[np.ndarray, np.ndarray]
) -> None:
    X, _ = data
    first, second = train(data, 1.0), train(data, 0.01)
    run1, run2 = log_model(first), log_model(second)
    name = unique("clf")

    v1 = mlflow.register_model(f"runs:/{run1}/model", name)
    v2 = mlflow.register_model(f"runs:/{run2}/model", name)
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.run_id == run1 and v2.run_id == run2
    assert v1.status == "READY" and v1.current_stage == "None"
    assert v1.source.startswith("models:/m-")

    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "2"}
    assert [v.version for v in model.latest_versions] == ["2"]

    assert np.array_equal(predictions(f"models:/{name}@champion", X), second.predict(X))
    assert np.array_equal(predictions(f"models:/{name}/1", X), first.predict(X))
    assert np.array_equal(predictions(f"models:/{name}/latest", X), second.predict(X))

    # The logged model lists its registrations in a tag (written by the server, then the client
    # appends its own copy, as against MLflow's server).
    logged = client.get_logged_model(v1.source.split("/")[-1])
    entries = json.loads(logged.tags["mlflow.modelVersions"])
    assert {(e["name"], str(e["version"])) for e in entries} == {(name, "1")}
    assert {"name": name, "version": 1} in entries


def test_register_files_logged_as_artifacts(
    client: MlflowClient,
    experiment_id: str,
    data: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
) -> None:
    """A model saved locally and uploaded with log_artifacts: the client registers the run's
    own files (source = the run's artifact URI), not a logged model."""
    X, _ = data
    clf = train(data)
    local = tmp_path / "saved"
    mlflow.sklearn.save_model(clf, str(local), pip_requirements=REQUIREMENTS)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(local), "model")
    name = unique("files")
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    root = client.get_run(run.info.run_id).info.artifact_uri
    assert mv.source == f"{root}/model" and mv.run_id == run.info.run_id
    assert client.get_model_version_download_uri(name, "1") == f"{root}/model"
    assert np.array_equal(predictions(f"models:/{name}/1", X), clf.predict(X))


def test_rename_delete_and_tags(
    client: MlflowClient, experiment_id: str, data: tuple[np.ndarray, np.ndarray]
) -> None:
    X, _ = data
    clf = train(data)
    run_id = log_model(clf)
    name, new_name = unique("old"), unique("new")
    client.create_registered_model(name, tags={"team": "a"}, description="orig")
    for _ in range(3):
        mlflow.register_model(f"runs:/{run_id}/model", name)
    client.set_registered_model_alias(name, "champion", "2")
    client.set_model_version_tag(name, "2", "validated", "yes")

    client.rename_registered_model(name, new_name)
    with pytest.raises(MlflowException) as missing:
        client.get_registered_model(name)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    renamed = client.get_registered_model(new_name)
    assert renamed.tags == {"team": "a"} and renamed.description == "orig"
    assert renamed.aliases == {"champion": "2"}
    by_alias = client.get_model_version_by_alias(new_name, "champion")
    assert by_alias.version == "2" and by_alias.tags == {"validated": "yes"}
    assert np.array_equal(predictions(f"models:/{new_name}@champion", X), clf.predict(X))

    client.delete_registered_model_alias(new_name, "champion")
    assert client.get_registered_model(new_name).aliases == {}
    with pytest.raises(MlflowException) as no_alias:
        client.get_model_version_by_alias(new_name, "champion")
    assert no_alias.value.error_code == "INVALID_PARAMETER_VALUE"

    client.delete_model_version(new_name, "3")
    left = client.search_model_versions(f"name = '{new_name}'")
    assert sorted(v.version for v in left) == ["1", "2"]
    client.delete_model_version_tag(new_name, "2", "validated")
    assert client.get_model_version(new_name, "2").tags == {}
    client.update_model_version(new_name, "1", description="first")
    assert client.get_model_version(new_name, "1").description == "first"
    client.update_registered_model(new_name, description="renamed")
    assert client.get_registered_model(new_name).description == "renamed"

    client.delete_registered_model(new_name)
    assert client.search_registered_models(f"name = '{new_name}'") == []


def _all_pages(search: Callable[..., Any], **kwargs: Any) -> tuple[list[Any], int]:
    found, token, pages = [], None, 0
    while True:
        page = search(page_token=token, **kwargs)
        found += list(page)
        pages += 1
        token = page.token
        if not token:
            return found, pages


def test_search_and_paging(client: MlflowClient, experiment_id: str) -> None:
    prefix = unique("srch")
    with mlflow.start_run() as run:
        mlflow.log_param("x", 1)
    run_id = run.info.run_id
    root = client.get_run(run_id).info.artifact_uri
    for i in range(5):
        name = f"{prefix}-{i}"
        client.create_registered_model(name, tags={"parity": "even" if i % 2 == 0 else "odd"})
        for _ in range(2):
            client.create_model_version(name, f"{root}/model", run_id=run_id)
    # A prompt with the same prefix never shows up in model searches.
    mlflow.genai.register_prompt(name=f"{prefix}-prompt", template="Hi {{x}}")

    models, pages = _all_pages(
        client.search_registered_models, filter_string=f"name LIKE '{prefix}-%'",
        max_results=2, order_by=["name DESC"],
    )
    assert [m.name for m in models] == [f"{prefix}-{i}" for i in (4, 3, 2, 1, 0)]
    assert pages == 3
    even = client.search_registered_models(
        filter_string=f"name LIKE '{prefix}-%' AND tags.parity = 'even'"
    )
    assert sorted(m.name for m in even) == [f"{prefix}-0", f"{prefix}-2", f"{prefix}-4"]
    assert all(m.latest_versions[0].version == "2" for m in even)

    versions, pages = _all_pages(
        client.search_model_versions, filter_string=f"run_id = '{run_id}'",
        max_results=3, order_by=["name ASC", "version_number DESC"],
    )
    assert [(v.name, v.version) for v in versions] == [
        (f"{prefix}-{i}", str(n)) for i in range(5) for n in (2, 1)
    ]
    assert pages == 4
    one = client.search_model_versions(f"name = '{prefix}-3' AND version_number >= 2")
    assert [(v.name, v.version) for v in one] == [(f"{prefix}-3", "2")]
    client.set_model_version_tag(f"{prefix}-1", "1", "gold", "true")
    tagged = client.search_model_versions(f"name LIKE '{prefix}-%' AND tags.gold = 'true'")
    assert [(v.name, v.version) for v in tagged] == [(f"{prefix}-1", "1")]


@pytest.mark.filterwarnings("ignore:.*transition_model_version_stage:FutureWarning")
@pytest.mark.filterwarnings("ignore:.*get_latest_versions:FutureWarning")
def test_stage_transitions(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("x", 1)
    root = client.get_run(run.info.run_id).info.artifact_uri
    name = unique("stages")
    client.create_registered_model(name)
    for _ in range(3):
        client.create_model_version(name, f"{root}/model", run_id=run.info.run_id)
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "staging")
    latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert latest == {"Production": "1", "Staging": "2", "None": "3"}
    moved = client.transition_model_version_stage(
        name, "3", "Production", archive_existing_versions=True
    )
    assert moved.current_stage == "Production"
    stages = {v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")}
    assert stages == {"1": "Archived", "2": "Staging", "3": "Production"}
    assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["3"]


def test_registry_errors_reach_the_client(client: MlflowClient, experiment_id: str) -> None:
    name = unique("errs")
    client.create_registered_model(name)
    with pytest.raises(MlflowException) as dup:
        client.create_registered_model(name)
    assert dup.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as missing:
        client.get_model_version(name, "7")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as traversal:
        client.create_model_version(name, "mlflow-artifacts:/0/../../../etc")
    assert traversal.value.error_code == "INVALID_PARAMETER_VALUE"


def test_stage_transitions_with_a_2x_client(
    server: ServerProcess, python2x: Path  # noqa: F811
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.pop("PYTHONPATH", None)  # the 2.x venv must not see this venv's mlflow 3
    done = subprocess.run(
        [str(python2x), str(V2_SCRIPTS / "registry_stages.py"), server.url],
        cwd=V2_SCRIPTS, env=env, capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(
            f"registry_stages.py under the 2.x client exited {done.returncode}\n"
            f"--- stdout ---\n{done.stdout[-5000:]}\n--- stderr ---\n{done.stderr[-10000:]}"
        )
    assert done.stdout.strip().endswith("OK"), done.stdout
