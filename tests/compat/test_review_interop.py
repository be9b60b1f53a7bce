"""Swap the server, keep the review data: issues and label schemas written through trackd are
read and changed by ``mlflow server`` 3.18 on the same database, and the other way round, with
the official client."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.genai import label_schemas as ls

from .interop import hand_over

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def _write(url: str) -> tuple[str, str, str]:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment("review-interop")
    issue = mlflow.genai.create_issue(
        "Wrong tool", severity="high", description="picks search for math",
        categories=["Tooling", " tooling "], metadata={"team": "agents"},
        experiment_id=experiment_id)
    mlflow.genai.create_issue("Minor", severity="low", description="d",
                              experiment_id=experiment_id)
    ls.list_label_schemas(experiment_id=experiment_id)  # seeds the default question
    schema = ls.create_label_schema(
        "Tone", type="expectation", experiment_id=experiment_id,
        input=ls.InputCategorical(options=["calm", "curt"], multi_select=True))
    return experiment_id, issue.issue_id, schema.schema_id


def _read(url: str, experiment_id: str, issue_id: str, schema_id: str) -> None:
    mlflow.set_tracking_uri(url)
    issue = mlflow.genai.get_issue(issue_id, experiment_id=experiment_id)
    assert (issue.name, issue.severity, issue.status) == ("Wrong tool", "high", "pending")
    assert issue.categories == ["Tooling", " tooling "]
    assert issue.metadata == {"team": "agents"}
    # Category search reads the other server's issue_categories rows.
    found = mlflow.genai.search_issues(experiment_id=experiment_id, categories=["TOOLING"])
    assert [i.issue_id for i in found] == [issue_id]
    assert [i.name for i in mlflow.genai.search_issues(experiment_id=experiment_id)] == [
        "Wrong tool", "Minor"]
    updated = mlflow.genai.update_issue(issue_id, status="resolved", categories=["Routing"],
                                        delete_metadata_keys=["team"],
                                        experiment_id=experiment_id)
    assert updated.status == "resolved" and not updated.metadata
    assert [i.issue_id for i in mlflow.genai.search_issues(
        experiment_id=experiment_id, categories=["routing"])] == [issue_id]

    schema = ls.get_label_schema(schema_id=schema_id)
    assert schema.input == ls.InputCategorical(options=["calm", "curt"], multi_select=True)
    listed = ls.list_label_schemas(experiment_id=experiment_id)
    assert [(s.name, s.is_default) for s in listed] == [("Tone", False), ("Feedback", True)]
    renamed = ls.update_label_schema(schema_id, name="Tone of voice")
    assert ls.get_label_schema("Tone of voice", experiment_id=experiment_id) == renamed


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_review_data_moves_between_servers(db_kind: str, tmp_path: Path, first: str) -> None:
    hand_over(db_kind, tmp_path, first, _write, lambda url, ids: _read(url, *ids))
