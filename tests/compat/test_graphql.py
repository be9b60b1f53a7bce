"""``/graphql`` as MLflow's web UI uses it: the UI's own four operations (recorded from the 3.18
bundle's network traffic), sent to a live server whose data the official client logged, on each
database; the same tests pass against ``mlflow server`` (``--compat-target mlflow``).

Also the UI-only REST routes that go with it: ``experiments/search-datasets`` and the
``/ajax-api`` ``metrics/get-history-bulk``.
"""

from __future__ import annotations

import math
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient

from .conftest import unique_name

pytestmark = [pytest.mark.compat]

# The operations MLflow 3.18's UI sends (its run page, run comparison, experiment pages and
# charts), field for field.
GET_RUN = """
query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) {
    apiError { helpUrl code message }
    run {
      info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime
             userId }
      experiment { experimentId name tags { key value } artifactLocation lifecycleStage
                   lastUpdateTime }
      modelVersions { status version name source }
      data { metrics { key value step timestamp } params { key value } tags { key value } }
      inputs {
        datasetInputs { dataset { digest name profile schema source sourceType }
                        tags { key value } }
        modelInputs { modelId }
      }
      outputs { modelOutputs { modelId step } }
    }
  }
}"""
SEARCH_RUNS = """
query SearchRuns($data: MlflowSearchRunsInput!) {
  mlflowSearchRuns(input: $data) {
    apiError { helpUrl code message }
    nextPageToken
    runs {
      info { runName status runUuid experimentId }
      experiment { experimentId name }
      data { metrics { key value step timestamp } params { key value } }
      modelVersions { version name creationTimestamp status source }
    }
  }
}"""
GET_EXPERIMENT = """
query MlflowGetExperimentQuery($input: MlflowGetExperimentInput!)
    @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetExperiment(input: $input) {
    apiError { code message }
    experiment { artifactLocation creationTime experimentId lastUpdateTime lifecycleStage name
                 tags { key value } }
  }
}"""
HISTORY_INTERVAL = """
query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!)
    @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetMetricHistoryBulkInterval(input: $data) {
    __typename
    metrics { timestamp step runId key value }
    apiError { code message }
  }
}"""


def gql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = requests.post(f"{url}/graphql", json={"query": query, "variables": variables},
                      timeout=60)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in items}


@pytest.fixture
def logged(client: MlflowClient, experiment_id: str) -> dict[str, Any]:
    """A run with params, metrics (one NaN), tags, a dataset input, an artifact and a
    registered model version; and a second, bare run."""
    with mlflow.start_run(experiment_id=experiment_id, run_name="first") as run:
        mlflow.log_param("alpha", "0.5")
        mlflow.set_tag("team", "search")
        for step in range(6):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("odd", math.nan)
        frame = pd.DataFrame({"x": np.arange(3), "y": np.arange(3) * 2})
        mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
        mlflow.log_text("hello", "notes/readme.txt")
    with mlflow.start_run(experiment_id=experiment_id, run_name="second") as other:
        mlflow.log_metric("loss", 3.0, step=0)
    model = unique_name("gql-model")
    client.create_registered_model(model)
    version = client.create_model_version(model, f"runs:/{run.info.run_id}/model",
                                          run_id=run.info.run_id)
    return {"run": run.info.run_id, "other": other.info.run_id, "model": model,
            "version": version.version, "experiment": experiment_id}


def test_run_page_query(tracking_uri: str, logged: dict[str, Any]) -> None:
    body = gql(tracking_uri, GET_RUN, {"data": {"runId": logged["run"]}})
    assert body["errors"] is None
    run = body["data"]["mlflowGetRun"]["run"]
    assert body["data"]["mlflowGetRun"]["apiError"] is None
    info = run["info"]
    assert (info["runUuid"], info["runName"], info["status"]) == (logged["run"], "first",
                                                                   "FINISHED")
    assert info["experimentId"] == logged["experiment"]
    assert info["lifecycleStage"] == "active"
    # 64-bit values travel as strings.
    assert isinstance(info["startTime"], str) and int(info["endTime"]) >= int(info["startTime"])
    assert run["experiment"]["experimentId"] == logged["experiment"]
    assert run["experiment"]["name"]
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"]["value"] == pytest.approx(1 / 6) and metrics["loss"]["step"] == "5"
    assert metrics["odd"]["value"] is None  # NaN: GraphQL floats have none
    assert _tags(run["data"]["params"]) == {"alpha": "0.5"}
    assert _tags(run["data"]["tags"])["team"] == "search"
    [dataset_input] = run["inputs"]["datasetInputs"]
    assert dataset_input["dataset"]["name"] == "train-set"
    assert dataset_input["dataset"]["sourceType"]
    assert _tags(dataset_input["tags"])["mlflow.data.context"] == "training"
    assert run["inputs"]["modelInputs"] == []
    assert run["outputs"]["modelOutputs"] == []
    [version] = run["modelVersions"]
    assert (version["name"], version["version"], version["status"]) == (
        logged["model"], logged["version"], "READY")


def test_unknown_run_is_an_error_and_a_null_field(tracking_uri: str) -> None:
    body = gql(tracking_uri, GET_RUN, {"data": {"runId": "0" * 32}})
    assert body["data"] == {"mlflowGetRun": None}
    assert len(body["errors"]) == 1 and "0" * 32 in body["errors"][0]


def test_experiment_query(tracking_uri: str, client: MlflowClient) -> None:
    experiment_id = client.create_experiment(unique_name("gql-exp"), tags={"owner": "ml"})
    body = gql(tracking_uri, GET_EXPERIMENT, {"input": {"experimentId": experiment_id}})
    assert body["errors"] is None
    experiment = body["data"]["mlflowGetExperiment"]["experiment"]
    assert experiment["experimentId"] == experiment_id
    assert _tags(experiment["tags"]) == {"owner": "ml"}
    assert experiment["lifecycleStage"] == "active"
    assert int(experiment["creationTime"]) > 0 and experiment["artifactLocation"]

    missing = gql(tracking_uri, GET_EXPERIMENT, {"input": {"experimentId": "987654321"}})
    assert missing["data"] == {"mlflowGetExperiment": None}
    assert "987654321" in missing["errors"][0]
    bad = gql(tracking_uri, GET_EXPERIMENT, {"input": {"experimentId": "abc"}})
    assert bad["data"] == {"mlflowGetExperiment": None}
    assert "abc" in bad["errors"][0]


def test_search_runs_query_and_mutation(tracking_uri: str, logged: dict[str, Any]) -> None:
    variables = {"data": {"experimentIds": [logged["experiment"]], "maxResults": 1,
                          "orderBy": ["attributes.start_time ASC"]}}
    first = gql(tracking_uri, SEARCH_RUNS, variables)
    assert first["errors"] is None
    page = first["data"]["mlflowSearchRuns"]
    [run] = page["runs"]
    assert run["info"]["runUuid"] == logged["run"]
    assert run["experiment"]["experimentId"] == logged["experiment"]
    assert [v["version"] for v in run["modelVersions"]] == [logged["version"]]
    assert page["nextPageToken"]
    variables["data"]["pageToken"] = page["nextPageToken"]
    second = gql(tracking_uri, SEARCH_RUNS, variables)["data"]["mlflowSearchRuns"]
    assert [r["info"]["runUuid"] for r in second["runs"]] == [logged["other"]]
    assert second["runs"][0]["modelVersions"] == []

    mutation = ("mutation M($data: MlflowSearchRunsInput!) { mlflowSearchRuns(input: $data) "
                "{ runs { info { runName } } } }")
    found = gql(tracking_uri, mutation, {"data": {"experimentIds": [logged["experiment"]],
                                                  "filter": "params.alpha = '0.5'"}})
    assert found["errors"] is None
    assert [r["info"]["runName"] for r in found["data"]["mlflowSearchRuns"]["runs"]] == ["first"]


def test_metric_history_interval_query(tracking_uri: str, logged: dict[str, Any]) -> None:
    body = gql(tracking_uri, HISTORY_INTERVAL, {"data": {
        "runIds": [logged["run"], logged["other"]], "metricKey": "loss", "maxResults": 100}})
    assert body["errors"] is None
    answer = body["data"]["mlflowGetMetricHistoryBulkInterval"]
    assert answer["__typename"] == "MlflowGetMetricHistoryBulkIntervalResponse"
    by_run: dict[str, list[tuple[str, float]]] = {}
    for point in answer["metrics"]:
        assert point["key"] == "loss" and isinstance(point["timestamp"], str)
        by_run.setdefault(point["runId"], []).append((point["step"], point["value"]))
    assert by_run[logged["other"]] == [("0", 3.0)]
    assert [s for s, _ in by_run[logged["run"]]] == [str(i) for i in range(6)]


def test_other_queries_of_mlflow_schema(tracking_uri: str, logged: dict[str, Any]) -> None:
    listing = gql(tracking_uri, """query L($i: MlflowListArtifactsInput) {
        mlflowListArtifacts(input: $i) { rootUri files { path isDir fileSize } } }""",
                  {"i": {"runId": logged["run"], "path": "notes"}})
    assert listing["errors"] is None
    files = listing["data"]["mlflowListArtifacts"]["files"]
    assert files == [{"path": "notes/readme.txt", "isDir": False, "fileSize": "5"}]

    versions = gql(tracking_uri, """query V($i: MlflowSearchModelVersionsInput) {
        mlflowSearchModelVersions(input: $i) { modelVersions { name version runId aliases } } }
        """, {"i": {"filter": f"name = '{logged['model']}'"}})
    assert versions["errors"] is None
    assert versions["data"]["mlflowSearchModelVersions"]["modelVersions"] == [
        {"name": logged["model"], "version": logged["version"], "runId": logged["run"],
         "aliases": []}]
    bad = gql(tracking_uri, """{ mlflowSearchModelVersions(input: {filter: "name ~~ 1"})
        { modelVersions { name } } }""")
    assert bad["data"] == {"mlflowSearchModelVersions": None} and bad["errors"]

    datasets = gql(tracking_uri, """mutation D($i: MlflowSearchDatasetsInput) {
        mlflowSearchDatasets(input: $i) { datasetSummaries { experimentId name digest context }
        } }""", {"i": {"experimentIds": [logged["experiment"]]}})
    assert datasets["errors"] is None
    [summary] = datasets["data"]["mlflowSearchDatasets"]["datasetSummaries"]
    assert (summary["experimentId"], summary["name"], summary["context"]) == (
        logged["experiment"], "train-set", "training")

    echo = gql(tracking_uri, '{ test(inputString: "ping") { output } }')
    assert echo == {"data": {"test": {"output": "ping"}}, "errors": None}


def test_invalid_queries_are_graphql_errors(tracking_uri: str) -> None:
    unknown = gql(tracking_uri, "{ noSuchField }")
    assert unknown["data"] is None
    assert "noSuchField" in unknown["errors"][0]
    aliases = " ".join(f'a{i}: test(inputString: "x") {{ output }}' for i in range(11))
    too_many = gql(tracking_uri, "{ " + aliases + " }")
    assert too_many["data"] is None
    assert "MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS" in too_many["errors"][0]


def test_search_datasets_rest(tracking_uri: str, logged: dict[str, Any]) -> None:
    url = f"{tracking_uri}/ajax-api/2.0/mlflow/experiments/search-datasets"
    r = requests.post(url, json={"experiment_ids": [logged["experiment"]]}, timeout=30)
    assert r.status_code == 200, r.text
    [summary] = r.json()["dataset_summaries"]
    assert summary["name"] == "train-set" and summary["context"] == "training"
    assert summary["experiment_id"] == logged["experiment"] and summary["digest"]
    empty = requests.post(url, json={"experiment_ids": []}, timeout=30)
    assert empty.status_code == 400
    assert empty.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    too_many = requests.post(url, json={"experiment_ids": [str(i) for i in range(21)]},
                             timeout=30)
    assert too_many.status_code == 400 and "20" in too_many.json()["message"]


def test_history_bulk_rest(tracking_uri: str, logged: dict[str, Any]) -> None:
    url = f"{tracking_uri}/ajax-api/2.0/mlflow/metrics/get-history-bulk"
    r = requests.get(url, params=[("run_id", logged["other"]), ("run_id", logged["run"]),
                                  ("metric_key", "loss")], timeout=30)
    assert r.status_code == 200, r.text
    points = r.json()["metrics"]
    assert len(points) == 7
    # Runs in id order, each run's points in time order.
    assert [p["run_id"] for p in points] == sorted(p["run_id"] for p in points)
    mine = [p for p in points if p["run_id"] == logged["run"]]
    assert [p["step"] for p in mine] == list(range(6))
    capped = requests.get(url, params=[("run_id", logged["run"]), ("metric_key", "loss"),
                                       ("max_results", "2")], timeout=30)
    assert len(capped.json()["metrics"]) == 2
    no_key = requests.get(url, params=[("run_id", logged["run"])], timeout=30)
    assert no_key.status_code == 400
    assert no_key.json()["error_code"] == "INVALID_PARAMETER_VALUE"
