"""The platform example, end to end with the official 3.18 client: train a random forest, log
params and metrics, ``mlflow.sklearn.log_model``, then ``load_model`` by ``runs:/`` and by
``models:/<model_id>`` and get identical predictions -- with a proxied and a direct root."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from support.server import ServerProcess

# The same two roots as the artifact tests: the session server (proxied) and a direct root.
from .test_artifacts import direct_server, server  # noqa: F401

pytestmark = pytest.mark.compat

# MLflow 3.18 serializes sklearn models with skops, which refuses a forest's tree type unless
# the caller trusts it (DESIGN §5): client-side behaviour, nothing for the server to do.
TRUSTED = ["sklearn.tree._tree.Tree"]
REQUIREMENTS = ["scikit-learn", "skops"]


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.3, random_state=0))  # type: ignore[return-value]


# pyfunc's predict warns that a model without type hints is not validated; that is the client's
# business, not a failure of the server.
@pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning")
def test_platform_example(
    request: pytest.FixtureRequest, client: MlflowClient, experiment_id: str, iris: tuple
) -> None:
    X_train, X_test, y_train, y_test = iris
    with mlflow.start_run() as run:
        clf = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
        clf.fit(X_train, y_train)
        mlflow.log_param("n_estimators", 20)
        mlflow.log_param("max_depth", 4)
        predictions = clf.predict(X_test)
        accuracy = accuracy_score(y_test, predictions)
        f1 = f1_score(y_test, predictions, average="macro")
        mlflow.log_metric("accuracy", accuracy)
        mlflow.log_metric("f1", f1)
        info = mlflow.sklearn.log_model(clf, name="model", skops_trusted_types=TRUSTED)
        artifact_uri = mlflow.get_artifact_uri()
    run_id = run.info.run_id
    assert artifact_uri == client.get_run(run_id).info.artifact_uri
    assert artifact_uri.endswith(f"{experiment_id}/{run_id}/artifacts")

    by_run = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    by_model = mlflow.sklearn.load_model(f"models:/{info.model_id}")
    by_pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    assert np.array_equal(by_run.predict(X_test), predictions)
    assert np.array_equal(by_model.predict(X_test), predictions)
    assert np.array_equal(np.asarray(by_pyfunc.predict(X_test)), predictions)

    model = client.get_logged_model(info.model_id)
    assert model.status.name == "READY"
    assert model.name == "model" and model.source_run_id == run_id
    assert model.experiment_id == experiment_id
    assert model.artifact_location.endswith(f"{experiment_id}/models/{info.model_id}/artifacts")
    if request.node.callspec.params["server"] == "proxied":
        assert model.artifact_location.startswith("mlflow-artifacts:/")
    assert model.params == {"n_estimators": "20", "max_depth": "4"}
    linked = {m.key: m.value for m in model.metrics}
    assert linked == pytest.approx({"accuracy": accuracy, "f1": f1})
    assert all(m.model_id == info.model_id and m.run_id == run_id for m in model.metrics)
    assert [o.model_id for o in client.get_run(run_id).outputs.model_outputs] == [info.model_id]

    files = {f.path for f in client.list_artifacts(run_id, "model")}
    assert {"model/MLmodel", "model/model.skops", "model/requirements.txt"} <= files


def test_search_and_lifecycle(client: MlflowClient, experiment_id: str, iris: tuple) -> None:
    X_train, _, y_train, _ = iris
    ids = []
    for depth in (2, 3):
        with mlflow.start_run():
            clf = RandomForestClassifier(n_estimators=5, max_depth=depth, random_state=0)
            clf.fit(X_train, y_train)
            mlflow.log_metric("accuracy", clf.score(X_train, y_train))
            ids.append(mlflow.sklearn.log_model(
                clf, name=f"forest-{depth}", skops_trusted_types=TRUSTED,
                pip_requirements=REQUIREMENTS,  # skips the client's slow requirement inference
            ).model_id)
    found = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    assert {m.model_id for m in found} == set(ids)
    best = mlflow.search_logged_models(
        experiment_ids=[experiment_id], filter_string="metrics.accuracy > 0",
        order_by=[{"field_name": "metrics.accuracy", "ascending": False}], output_format="list",
    )
    assert len(best) == 2
    assert best[0].metrics[0].value >= best[1].metrics[0].value
    named = mlflow.search_logged_models(experiment_ids=[experiment_id],
                                        filter_string="name = 'forest-2'", output_format="list")
    assert [m.model_id for m in named] == [ids[0]]

    client.set_logged_model_tags(ids[0], {"stage": "candidate"})
    assert client.get_logged_model(ids[0]).tags["stage"] == "candidate"
    client.delete_logged_model_tag(ids[0], "stage")
    assert "stage" not in client.get_logged_model(ids[0]).tags
    client.delete_logged_model(ids[1])
    left = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    assert [m.model_id for m in left] == [ids[0]]


def test_logged_model_without_run(client: MlflowClient, experiment_id: str) -> None:
    model = mlflow.initialize_logged_model(name="external", model_type="agent",
                                           params={"k": "v"}, tags={"t": "1"})
    assert model.status.name == "PENDING"
    assert model.model_type == "agent"
    mlflow.finalize_logged_model(model.model_id, "READY")
    got = client.get_logged_model(model.model_id)
    assert got.status.name == "READY" and got.params == {"k": "v"} and got.tags["t"] == "1"


def test_runs_uri_for_unknown_model_fails(
    client: MlflowClient, experiment_id: str, server: ServerProcess  # noqa: F811
) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    with pytest.raises(Exception):  # noqa: B017 - the client's error type varies by root
        mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
