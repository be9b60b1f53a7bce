"""Swap the server, keep the review data: issues, label schemas and review queues written
through trackd are read and changed by ``mlflow server`` 3.18 on the same database, and the
other way round, with the official client."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.genai import label_schemas as ls
from mlflow.tracing.client import TracingClient

from .conftest import unique_name
from .interop import InteropServers

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def _write(url: str) -> tuple[str, str, str, str, str]:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(unique_name("review-interop"))
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
    queue_id, trace_id = _write_queue(experiment_id, schema.schema_id)
    return experiment_id, issue.issue_id, schema.schema_id, queue_id, trace_id


def _write_queue(experiment_id: str, schema_id: str) -> tuple[str, str]:
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_span("answer"):
        pass
    mlflow.flush_trace_async_logging(terminate=False)
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    tc = TracingClient()
    queue = tc._create_review_queue(experiment_id, name="Team Queue", queue_type="custom",
                                    users=["Ana", "bo"], schema_ids=[schema_id])
    tc._get_or_create_user_queue(experiment_id, user="cy")
    tc._add_items_to_review_queue(queue.queue_id, item_ids=[trace_id])
    tc._set_review_queue_item_status(queue.queue_id, item_id=trace_id, status="complete",
                                     completed_by="ana")
    return queue.queue_id, trace_id


def _read_queue(experiment_id: str, schema_id: str, queue_id: str, trace_id: str) -> None:
    tc = TracingClient()
    queue = tc._get_review_queue_by_name(experiment_id, "team queue")
    assert (queue.queue_id, queue.name, queue.queue_type) == (queue_id, "Team Queue", "custom")
    assert (queue.users, queue.schema_ids) == (["ana", "bo"], [schema_id])
    mine = tc._get_or_create_user_queue(experiment_id, user="CY")  # found, not made again
    assert [q.queue_id for q in tc._list_review_queues(experiment_id)] == [
        mine.queue_id, queue_id]
    (item,) = tc._list_review_queue_items(queue_id, status="complete")
    assert (item.item_id, item.completed_by) == (trace_id, "ana")
    reopened = tc._set_review_queue_item_status(queue_id, item_id=trace_id, status="pending")
    assert reopened.completed_by is None
    renamed = tc._update_review_queue(queue_id, name="Renamed", users=["dee"])
    assert tc._get_review_queue(queue_id) == renamed
    tc._delete_review_queue(mine.queue_id)
    assert [q.name for q in tc._list_review_queues(experiment_id)] == ["Renamed"]


def _read(url: str, experiment_id: str, issue_id: str, schema_id: str, queue_id: str,
          trace_id: str) -> None:
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
    _read_queue(experiment_id, schema_id, queue_id, trace_id)


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_review_data_moves_between_servers(interop: InteropServers, first: str) -> None:
    interop.hand_over(first, _write, lambda url, ids: _read(url, *ids))
