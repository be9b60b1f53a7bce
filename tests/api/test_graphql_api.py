"""``/graphql`` bad input and bounds, in process on each database: what MLflow answers with an
HTML 500 gets a 400 here, oversized queries are refused before they run, a failed field is null
beside its error, and a mutation never runs from a GET."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.asgi import in_process

from trackd.config import settings_from_env


def _gql(api: Any, body: Any, **kw: Any) -> tuple[int, Any]:
    return api.call("POST", "/graphql", body, **kw)


def _aliases(n: int, field: str = 'test(inputString: "x") { output }') -> str:
    return " ".join(f"a{i}: {field}" for i in range(n))


def test_missing_query_is_mlflow_invalid_parameter(api: Any) -> None:
    status, body = _gql(api, {})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'query'" in body["message"]
    status, body = _gql(api, {"query": ["not", "a", "string"]})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"


def test_query_that_does_not_parse_is_a_400_in_graphql_shape(api: Any) -> None:
    status, body = _gql(api, {"query": "query { "})
    assert status == 400
    assert body["data"] is None and body["errors"][0].startswith("Syntax Error")


@pytest.mark.parametrize("variables", ["[1, 2]", "{not json", 5])
def test_bad_variables(api: Any, variables: Any) -> None:
    status, body = api.call("GET", "/graphql", {"query": "{ test { output } }",
                                                "variables": variables})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "variables" in body["message"]


def test_get_runs_queries_but_never_mutations(api: Any) -> None:
    status, body = api.call("GET", "/graphql", {"query": '{ test(inputString: "q") { output } }'})
    assert (status, body) == (200, {"data": {"test": {"output": "q"}}, "errors": None})
    status, body = api.call("GET", "/graphql", {"query": "mutation { testMutation { output } }"})
    assert status == 400 and "POST" in body["errors"][0]
    # Naming the query operation of a document that also holds a mutation is fine.
    doc = 'query Q { test(inputString: "a") { output } } mutation M { testMutation { output } }'
    status, body = api.call("GET", "/graphql", {"query": doc, "operationName": "Q"})
    assert status == 200 and body["data"] == {"test": {"output": "a"}}
    status, body = api.call("GET", "/graphql", {"query": doc, "operationName": "M"})
    assert status == 400


def test_ten_root_fields_run_eleven_are_refused(api: Any) -> None:
    status, body = _gql(api, {"query": "{ " + _aliases(10) + " }"})
    assert status == 200 and body["errors"] is None and len(body["data"]) == 10
    status, body = _gql(api, {"query": "{ " + _aliases(11) + " }"})
    assert status == 200 and body["data"] is None
    assert "10 root fields" in body["errors"][0]


def test_aliases_spread_over_fragments_still_count(api: Any) -> None:
    # Eleven aliases of one nested field, split over two fragments of the same selection.
    inner = [f'x{i}: output' for i in range(11)]
    doc = ("{ test(inputString: \"x\") { ...A ...B } } "
           "fragment A on Test { " + " ".join(inner[:6]) + " } "
           "fragment B on Test { " + " ".join(inner[6:]) + " }")
    status, body = _gql(api, {"query": doc})
    assert status == 200 and body["data"] is None
    assert "aliases" in body["errors"][0]


def test_depth_is_bounded(api: Any) -> None:
    # Valid against the schema would need a deep type; the bound is checked before validation.
    deep = "{ " + "a { " * 11 + "b" + " }" * 11 + " }"
    status, body = _gql(api, {"query": deep})
    assert status == 200 and body["data"] is None and "deep" in body["errors"][0]


def test_limits_follow_mlflows_variables(database_url: str, tmp_path: Any) -> None:
    settings = settings_from_env({"MLFLOW_SERVER_GRAPHQL_MAX_ALIASES": "2",
                                  "MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS": "12"})
    settings = settings.with_overrides(backend_store_uri=database_url,
                                       artifacts_destination=str(tmp_path),
                                       allowed_hosts=("*",))
    with in_process(settings) as served:
        ok = served.client.request("POST", "/graphql", json={"query": "{ " + _aliases(2) + " }"})
        assert ok.json()["errors"] is None
        refused = served.client.request("POST", "/graphql",
                                        json={"query": "{ " + _aliases(3) + " }"})
        assert "MLFLOW_SERVER_GRAPHQL_MAX_ALIASES" in refused.json()["errors"][0]


def test_failed_field_is_null_beside_its_error_others_still_resolve(api: Any) -> None:
    experiment_id = api.new_experiment(f"gql-{uuid.uuid4().hex[:8]}")
    doc = ('query Q($id: String) { good: mlflowGetExperiment(input: {experimentId: $id}) '
           '{ experiment { experimentId } } '
           'bad: mlflowGetRun(input: {runId: "not-a-run-id"}) { run { info { runId } } } }')
    status, body = _gql(api, {"query": doc, "variables": {"id": experiment_id}})
    assert status == 200
    assert body["data"] == {"good": {"experiment": {"experimentId": experiment_id}},
                            "bad": None}
    [message] = body["errors"]
    assert "not-a-run-id" in message


def test_run_without_inputs_reads_empty_lists_not_nulls(api: Any) -> None:
    experiment_id = api.new_experiment(f"gql-{uuid.uuid4().hex[:8]}")
    run_id = api.new_run(experiment_id)
    doc = ('query R($id: String) { mlflowGetRun(input: {runId: $id}) { run { info { status '
           'endTime runName } inputs { datasetInputs { tags { key } } modelInputs { modelId } } '
           'outputs { modelOutputs { modelId } } data { metrics { key } } modelVersions '
           '{ name } } } }')
    status, body = _gql(api, {"query": doc, "variables": {"id": run_id}})
    assert status == 200 and body["errors"] is None
    run = body["data"]["mlflowGetRun"]["run"]
    assert run["info"]["status"] == "RUNNING" and run["info"]["endTime"] in ("0", None)
    assert run["inputs"] == {"datasetInputs": [], "modelInputs": []}
    assert run["outputs"] == {"modelOutputs": []}
    assert run["data"]["metrics"] == [] and run["modelVersions"] == []


def test_ajax_only_routes(api: Any) -> None:
    status, body = api.call("GET", "/ajax-api/3.0/mlflow/ui-telemetry")
    assert status == 200 and body["disable_ui_telemetry"] is True
    status, body = api.call("POST", "/ajax-api/3.0/mlflow/ui-telemetry", {"records": [{}]})
    assert (status, body) == (200, {"status": "disabled"})
    status, body = api.call("GET", "/ajax-api/2.0/mlflow/gateway-proxy",
                            {"gateway_path": "api/2.0/endpoints/"})
    assert (status, body) == (200, {"endpoints": []})
    # As in MLflow: for the web UI only, not under /api.
    status, _ = api.call("GET", "/api/2.0/mlflow/metrics/get-history-bulk",
                         {"run_id": "a" * 32, "metric_key": "m"})
    assert status == 404
    status, body = api.call("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                            {"run_id": [f"{i:032x}" for i in range(101)], "metric_key": "m"})
    assert status == 400 and "100" in body["message"]
    status, body = api.call("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                            {"metric_key": "m"})
    assert status == 400 and "run_id" in body["message"]
