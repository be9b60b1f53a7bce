"""Run lifecycle and logging through the official client (fluent API and MlflowClient)."""

from __future__ import annotations

import math
import time

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException

from .conftest import must

pytestmark = pytest.mark.compat

# MLflow stores +/-inf as the largest finite double; the client reads that number back.
DOUBLE_MAX = 1.7976931348623157e308


def test_fluent_run_lifecycle(client: MlflowClient, experiment_id: str) -> None:
    before_ms = int(time.time() * 1000)
    with mlflow.start_run(run_name="first-run") as run:
        run_id = run.info.run_id
        live = client.get_run(run_id)
        assert live.info.status == "RUNNING"
        assert live.info.end_time is None
        assert live.info.run_name == "first-run"
        assert live.data.tags["mlflow.runName"] == "first-run"
        assert live.info.experiment_id == experiment_id
        assert live.info.lifecycle_stage == "active"
        assert len(run_id) == 32 and int(run_id, 16) >= 0
        assert live.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
        # The fluent API records who and what started the run.
        assert "mlflow.user" in live.data.tags
        assert "mlflow.source.name" in live.data.tags

    done = client.get_run(run_id)
    assert done.info.status == "FINISHED"
    assert done.info.start_time >= before_ms - 5_000
    assert done.info.end_time >= done.info.start_time


@pytest.mark.parametrize("status", ["FAILED", "KILLED"])
def test_end_run_with_status(client: MlflowClient, experiment_id: str, status: str) -> None:
    run = mlflow.start_run()
    mlflow.end_run(status=status)
    assert client.get_run(run.info.run_id).info.status == status


def test_client_create_run_and_set_terminated(client: MlflowClient, experiment_id: str) -> None:
    run = client.create_run(experiment_id, run_name="by-client", tags={"origin": "client"})
    assert run.info.status == "RUNNING"
    assert run.data.tags["origin"] == "client"
    assert run.data.tags["mlflow.runName"] == "by-client"

    client.set_terminated(run.info.run_id, status="SCHEDULED")
    assert client.get_run(run.info.run_id).info.status == "SCHEDULED"
    client.set_terminated(run.info.run_id, end_time=1_700_000_000_000)
    finished = client.get_run(run.info.run_id)
    assert finished.info.status == RunStatus.to_string(RunStatus.FINISHED)
    assert finished.info.end_time == 1_700_000_000_000


def test_server_generates_run_name(client: MlflowClient, experiment_id: str) -> None:
    run = client.create_run(experiment_id)
    name = run.info.run_name
    # MLflow names unnamed runs itself (adjective-noun-number) and mirrors it in the tag.
    assert name and "-" in name
    assert run.data.tags["mlflow.runName"] == name
    assert client.get_run(run.info.run_id).info.run_name == name


def test_update_run_name(client: MlflowClient, experiment_id: str) -> None:
    run = client.create_run(experiment_id, run_name="before")
    client.update_run(run.info.run_id, name="after")
    fetched = client.get_run(run.info.run_id)
    assert fetched.info.run_name == "after"
    assert fetched.data.tags["mlflow.runName"] == "after"
    # Setting the tag renames the run too.
    client.set_tag(run.info.run_id, "mlflow.runName", "via-tag")
    assert client.get_run(run.info.run_id).info.run_name == "via-tag"


def test_nested_runs(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            assert must(mlflow.active_run()).info.run_id == child.info.run_id
        assert must(mlflow.active_run()).info.run_id == parent.info.run_id

    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.info.status == "FINISHED"
    children = client.search_runs(
        [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]


def test_delete_and_restore_run(client: MlflowClient, experiment_id: str) -> None:
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"

    active = client.search_runs([experiment_id])
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    every = client.search_runs([experiment_id], run_view_type=ViewType.ALL)
    assert run_id not in {r.info.run_id for r in active}
    assert [r.info.run_id for r in deleted] == [run_id]
    assert run_id in {r.info.run_id for r in every}

    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]


def test_log_params_metrics_tags_fluent(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"layers": 3, "optimizer": "adam"})
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metric("loss", 0.25, step=2)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=2)
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"team": "a", "gpu": "none"})

    data = client.get_run(run.info.run_id).data
    assert data.params == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    # The run's metric value is the latest step's.
    assert data.metrics == {"loss": 0.25, "acc": 0.9, "f1": 0.8}
    assert {k: data.tags[k] for k in ("stage", "team", "gpu")} == {
        "stage": "dev",
        "team": "a",
        "gpu": "none",
    }
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.25)]


def test_log_batch_and_delete_tag(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    ts = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("m", float(i), ts + i, i) for i in range(5)],
        params=[Param("p1", "v1"), Param("p2", "v2")],
        tags=[RunTag("t1", "x"), RunTag("t2", "y")],
    )
    data = client.get_run(run_id).data
    assert data.metrics["m"] == 4.0
    assert data.params == {"p1": "v1", "p2": "v2"}
    assert data.tags["t1"] == "x" and data.tags["t2"] == "y"
    history = client.get_metric_history(run_id, "m")
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (i, float(i), ts + i) for i in range(5)
    ]

    client.delete_tag(run_id, "t1")
    assert "t1" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as exc:
        client.delete_tag(run_id, "t1")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_latest_metric_is_by_step_then_timestamp(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "m", 10.0, timestamp=1000, step=5)
    client.log_metric(run_id, "m", 20.0, timestamp=2000, step=3)
    # An older step logged later does not replace the latest value.
    assert client.get_run(run_id).data.metrics["m"] == 10.0
    client.log_metric(run_id, "m", 30.0, timestamp=500, step=5)
    assert client.get_run(run_id).data.metrics["m"] == 10.0
    client.log_metric(run_id, "m", 40.0, timestamp=3000, step=5)
    assert client.get_run(run_id).data.metrics["m"] == 40.0


def test_params_are_immutable(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "alpha", "1")
    client.log_param(run_id, "alpha", "1")  # the same value again is accepted
    with pytest.raises(MlflowException) as exc:
        client.log_param(run_id, "alpha", "2")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.log_batch(run_id, params=[Param("alpha", "3")])
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {"alpha": "1"}


def test_non_finite_metric_values(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "nan", math.nan)
    client.log_metric(run_id, "pinf", math.inf)
    client.log_metric(run_id, "ninf", -math.inf)
    client.log_batch(run_id, metrics=[Metric("batch_nan", math.nan, 0, 0)])

    metrics = client.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert math.isnan(metrics["batch_nan"])
    assert metrics["pinf"] == DOUBLE_MAX
    assert metrics["ninf"] == -DOUBLE_MAX

    assert math.isnan(client.get_metric_history(run_id, "nan")[0].value)
    assert client.get_metric_history(run_id, "pinf")[0].value == DOUBLE_MAX
    assert client.get_metric_history(run_id, "ninf")[0].value == -DOUBLE_MAX


def test_logging_to_deleted_run_fails(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    for log in (
        lambda: client.log_metric(run_id, "m", 1.0),
        lambda: client.log_param(run_id, "p", "1"),
        lambda: client.set_tag(run_id, "t", "1"),
        lambda: client.log_batch(run_id, metrics=[Metric("m", 1.0, 0, 0)]),
    ):
        with pytest.raises(MlflowException) as exc:
            log()
        assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "active" in exc.value.message


def test_refused_points_leave_nothing(client: MlflowClient, experiment_id: str) -> None:
    # One statement checks the run and writes the points on PostgreSQL, and the latest-value
    # upsert checks it on MariaDB: a refused write must still leave no point and no latest value.
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "m", 5.0, timestamp=10, step=3)
    client.log_metric(run_id, "m", 9.0, timestamp=20, step=1)  # older step: latest stays 5.0
    client.delete_run(run_id)
    for log in (
        lambda: client.log_metric(run_id, "m", 7.0, timestamp=30, step=4),
        lambda: client.log_batch(
            run_id, metrics=[Metric("m", 8.0, 40, 5), Metric("n", 1.0, 40, 0)]
        ),
    ):
        with pytest.raises(MlflowException) as exc:
            log()
        assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    client.restore_run(run_id)
    assert sorted(m.value for m in client.get_metric_history(run_id, "m")) == [5.0, 9.0]
    assert client.get_run(run_id).data.metrics == {"m": 5.0}


def test_creating_run_in_experiment_deleted_after_runs(client: MlflowClient) -> None:
    # On PostgreSQL a run of an experiment that already has runs is checked and written in one
    # statement: deleting the experiment in between must still refuse it, with MLflow's error.
    experiment_id = client.create_experiment(f"deleted-after-runs-{time.time_ns()}")
    client.create_run(experiment_id)
    client.create_run(experiment_id)
    client.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as exc:
        client.create_run(experiment_id)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    client.restore_experiment(experiment_id)
    run = client.create_run(experiment_id, tags={"t": "1"})
    assert client.get_run(run.info.run_id).data.tags["t"] == "1"
    assert len(client.search_runs([experiment_id])) == 3


def test_missing_run_is_resource_does_not_exist(client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as exc:
        client.get_run("0" * 32)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        client.log_metric("0" * 32, "m", 1.0)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_input_dataset(client: MlflowClient, experiment_id: str) -> None:
    import pandas as pd

    # Float columns: an integer column makes the client warn while inferring the schema, and
    # warnings are errors here (the client would then log the dataset without a schema).
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]})
    dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]
        frame, source="https://data.example/toy.csv", name="toy", targets="y"
    )
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"split": "train"})

    inputs = must(client.get_run(run.info.run_id).inputs).dataset_inputs
    assert len(inputs) == 1
    logged = inputs[0].dataset
    assert logged.name == "toy"
    assert logged.digest == dataset.digest
    assert logged.source_type == dataset.source._get_source_type()
    assert "https://data.example/toy.csv" in logged.source
    assert "x" in must(logged.schema) and "y" in must(logged.schema)
    tags = {t.key: t.value for t in inputs[0].tags}
    assert tags["mlflow.data.context"] == "training"
    assert tags["split"] == "train"

    # The same dataset logged again in another run is shared, not duplicated per run.
    with mlflow.start_run() as second:
        mlflow.log_input(dataset, context="eval")
    again = must(client.get_run(second.info.run_id).inputs).dataset_inputs
    assert again[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in again[0].tags}["mlflow.data.context"] == "eval"
