"""Issues through the official 3.18 client (``mlflow.genai.create_issue`` / ``get_issue`` /
``update_issue`` / ``search_issues``), plus the ajax search MLflow's web UI sends on every GenAI
experiment overview, against trackd (and ``mlflow server`` with ``--compat-target mlflow``) on
each database."""

from __future__ import annotations

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from support.server import ServerProcess

pytestmark = [
    pytest.mark.compat,
    # The genai issue functions are marked experimental in 3.18 and say so on every call.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def test_create_get_update_round_trip(experiment_id: str, client: MlflowClient) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    made = mlflow.genai.create_issue(
        "Wrong tool picked", severity="high", description="The agent calls search for math",
        categories=["Tooling", "routing"], metadata={"team": "agents"}, source_run_id=run_id,
        last_seen_timestamp=1_700_000_000_000, experiment_id=experiment_id)
    assert made.issue_id.startswith("iss-")
    assert (made.name, made.status, made.severity) == ("Wrong tool picked", "pending", "high")
    assert made.categories == ["Tooling", "routing"]
    assert made.metadata == {"team": "agents"}
    assert made.source_run_id == run_id
    assert made.last_seen_timestamp == 1_700_000_000_000

    got = mlflow.genai.get_issue(made.issue_id, experiment_id=experiment_id)
    assert got.to_dictionary() == made.to_dictionary()

    updated = mlflow.genai.update_issue(
        made.issue_id, status="resolved", severity="low", categories=[],
        metadata={"owner": "ana"}, delete_metadata_keys=["team"], last_seen_timestamp=5,
        experiment_id=experiment_id)
    assert (updated.status, updated.severity) == ("resolved", "low")
    assert not updated.categories
    assert updated.metadata == {"owner": "ana"}
    # A sighting never moves backwards.
    assert updated.last_seen_timestamp == 1_700_000_000_000
    assert updated.last_updated_timestamp >= made.last_updated_timestamp
    assert mlflow.genai.get_issue(made.issue_id, experiment_id=experiment_id).status == "resolved"


def test_caller_assigned_id_and_errors(experiment_id: str) -> None:
    mlflow.genai.create_issue("Fixed id", severity="medium", description="d",
                              issue_id="iss-compat1", experiment_id=experiment_id)
    with pytest.raises(MlflowException) as exc:
        mlflow.genai.create_issue("Again", severity="medium", description="d",
                                  issue_id="iss-compat1", experiment_id=experiment_id)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as exc:
        mlflow.genai.get_issue("iss-does-not-exist", experiment_id=experiment_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        mlflow.genai.create_issue("Bad", severity="critical", description="d",
                                  experiment_id=experiment_id)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid issue severity" in exc.value.message
    with pytest.raises(MlflowException) as exc:
        mlflow.genai.update_issue("iss-does-not-exist", name="n", experiment_id=experiment_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_filters_order_and_paging(experiment_id: str) -> None:
    for name, severity, cats in (("Alpha slow", "low", ["Latency"]),
                                 ("beta wrong", "high", ["Accuracy"]),
                                 ("Gamma slow", "medium", [" latency "])):
        mlflow.genai.create_issue(name, severity=severity, description=name, categories=cats,
                                  experiment_id=experiment_id)
    # Default order: the most severe first.
    found = mlflow.genai.search_issues(experiment_id=experiment_id)
    assert [i.name for i in found] == ["beta wrong", "Gamma slow", "Alpha slow"]
    assert found.token is None

    by_name = mlflow.genai.search_issues(experiment_id=experiment_id, name="SLOW",
                                         order_by=["name DESC"], include_total_count=True)
    assert [i.name for i in by_name] == ["Gamma slow", "Alpha slow"]
    assert by_name.total_count == 2
    assert [i.name for i in mlflow.genai.search_issues(
        experiment_id=experiment_id, categories=["LATENCY"], severities=["medium"])] == [
        "Gamma slow"]
    basic = mlflow.genai.search_issues(experiment_id=experiment_id, view="basic")
    assert {i.description for i in basic} == {""}

    first = mlflow.genai.search_issues(experiment_id=experiment_id, max_results=2,
                                       order_by=["created_timestamp"])
    assert len(first) == 2 and first.token
    rest = mlflow.genai.search_issues(experiment_id=experiment_id, max_results=2,
                                      order_by=["created_timestamp"], page_token=first.token)
    assert [i.name for i in [*first, *rest]] == ["Alpha slow", "beta wrong", "Gamma slow"]
    assert rest.token is None

    assert len(mlflow.genai.search_issues("status = 'pending'", experiment_id=experiment_id)) == 3
    assert len(mlflow.genai.search_issues("status != 'pending'",
                                          experiment_id=experiment_id)) == 0
    with pytest.raises(MlflowException) as exc:
        mlflow.genai.search_issues("name = 'x'", experiment_id=experiment_id)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"


def test_ui_overview_search(server: ServerProcess, experiment_id: str) -> None:
    """The request MLflow's web UI sends for a GenAI experiment's overview page."""
    url = f"{server.root_url}{server.prefix}/ajax-api/3.0/mlflow/issues/search"
    empty = requests.post(url, json={"experiment_id": experiment_id,
                                     "include_trace_count": True}, timeout=30)
    assert empty.status_code == 200
    assert empty.json() == {"next_page_token": ""}
    made = mlflow.genai.create_issue("Overview", severity="low", description="d",
                                     experiment_id=experiment_id)
    answer = requests.post(url, json={"experiment_id": experiment_id,
                                      "include_trace_count": True}, timeout=30).json()
    assert [(i["issue_id"], i["trace_count"]) for i in answer["issues"]] == [
        (made.issue_id, 0)]
