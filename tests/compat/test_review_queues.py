"""Review queues through the official 3.18 client (``TracingClient``'s review-queue calls, which
drive MLflow's REST store), against trackd (and ``mlflow server`` with ``--compat-target
mlflow``) on each database."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.genai import label_schemas as ls
from mlflow.tracing.client import TracingClient

from .conftest import must

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def _trace(name: str) -> str:
    with mlflow.start_span(name):
        pass
    mlflow.flush_trace_async_logging(terminate=False)
    return must(mlflow.get_last_active_trace_id())


def _error(call: object) -> MlflowException:
    with pytest.raises(MlflowException) as exc:
        call()  # type: ignore[operator]
    return exc.value


def test_queues_are_made_found_listed_changed_and_deleted(experiment_id: str) -> None:
    tc = TracingClient()
    schema = ls.create_label_schema("Correct?", type="feedback", experiment_id=experiment_id,
                                    input=ls.InputPassFail(positive_label="Y", negative_label="N"))
    team = tc._create_review_queue(experiment_id, name=" Team queue ", queue_type="custom",
                                   users=["Bo", " ana ", "bo"], schema_ids=[schema.schema_id])
    assert team.queue_id.startswith("rq-") and team.experiment_id == experiment_id
    assert (team.name, team.queue_type, team.users) == ("Team queue", "custom", ["ana", "bo"])
    assert team.schema_ids == [schema.schema_id] and team.created_by is None
    mine = tc._get_or_create_user_queue(experiment_id, user=" Zed ")
    assert (mine.name, mine.queue_type, mine.users, mine.created_by) == (
        "zed", "user", ["zed"], "zed")
    assert tc._get_or_create_user_queue(experiment_id, user="zed") == mine
    assert tc._get_review_queue(team.queue_id) == team
    assert tc._get_review_queue_by_name(experiment_id, "TEAM QUEUE") == team

    listed = tc._list_review_queues(experiment_id)
    assert [q.queue_id for q in listed] == [mine.queue_id, team.queue_id]
    assert [q.queue_id for q in tc._list_review_queues(experiment_id, user="ANA")] == [
        team.queue_id]
    page = tc._list_review_queues(experiment_id, max_results=1)
    assert len(page) == 1 and page.token
    rest = tc._list_review_queues(experiment_id, page_token=page.token)
    assert [q.queue_id for q in rest] == [team.queue_id] and not rest.token

    renamed = tc._update_review_queue(team.queue_id, name="Renamed", users=["cy"],
                                      schema_ids=[])
    assert (renamed.name, renamed.users, renamed.schema_ids) == ("Renamed", ["cy"], [])
    assert renamed.last_update_time_ms >= team.last_update_time_ms
    assert tc._get_review_queue(team.queue_id) == renamed

    err = _error(lambda: tc._create_review_queue(experiment_id, name="renamed",
                                                 queue_type="custom"))
    assert err.error_code == "RESOURCE_ALREADY_EXISTS"
    err = _error(lambda: tc._update_review_queue(mine.queue_id, name="other"))
    assert "cannot be updated" in err.message
    err = _error(lambda: tc._get_or_create_user_queue(experiment_id, user="renamed"))
    assert err.error_code == "RESOURCE_ALREADY_EXISTS"

    tc._delete_review_queue(team.queue_id)
    tc._delete_review_queue(team.queue_id)  # again: a no-op
    err = _error(lambda: tc._get_review_queue(team.queue_id))
    assert err.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [q.queue_id for q in tc._list_review_queues(experiment_id)] == [mine.queue_id]


def test_items_move_through_review(experiment_id: str) -> None:
    tc = TracingClient()
    first, second = _trace("first"), _trace("second")
    queue = tc._create_review_queue(experiment_id, name="Q", queue_type="custom",
                                    users=["ana"])
    added = tc._add_items_to_review_queue(queue.queue_id, item_ids=[first, second, first])
    assert [(i.item_id, i.status, i.item_type) for i in added] == [
        (first, "pending", "trace"), (second, "pending", "trace")]
    assert tc._add_items_to_review_queue(queue.queue_id, item_ids=[first]) == added[:1]
    assert [q.queue_id for q in tc.store.list_review_queues(experiment_id, item_id=second)] == [
        queue.queue_id]

    done = tc._set_review_queue_item_status(queue.queue_id, item_id=first, status="complete",
                                            completed_by="ANA")
    assert (done.status, done.completed_by) == ("complete", "ana") and done.completed_time_ms
    # The same status again keeps the first reviewer's credit.
    again = tc._set_review_queue_item_status(queue.queue_id, item_id=first, status="complete",
                                             completed_by="bo")
    assert again == done
    pending = tc._list_review_queue_items(queue.queue_id, status="pending")
    assert [i.item_id for i in pending] == [second]
    reopened = tc._set_review_queue_item_status(queue.queue_id, item_id=first, status="pending")
    assert (reopened.status, reopened.completed_by, reopened.completed_time_ms) == (
        "pending", None, None)
    page = tc._list_review_queue_items(queue.queue_id, max_results=1)
    assert len(page) == 1 and page.token

    err = _error(lambda: tc._update_review_queue(queue.queue_id, schema_ids=[]))
    assert "locked once items are assigned" in err.message
    err = _error(lambda: tc._set_review_queue_item_status(
        queue.queue_id, item_id=second, status="declined"))
    assert "`completed_by` is required" in err.message

    other = mlflow.create_experiment(f"elsewhere-{experiment_id}")
    mlflow.set_experiment(experiment_id=other)
    stranger = _trace("stranger")
    err = _error(lambda: tc._add_items_to_review_queue(queue.queue_id, item_ids=[stranger]))
    assert err.error_code == "RESOURCE_DOES_NOT_EXIST" and "Cannot attach" in err.message

    tc._remove_items_from_review_queue(queue.queue_id, item_ids=[first, "tr-unknown"])
    assert [i.item_id for i in tc._list_review_queue_items(queue.queue_id)] == [second]
    # Deleting a trace takes it out of every queue.
    mlflow.set_experiment(experiment_id=experiment_id)
    TracingClient().delete_traces(experiment_id, trace_ids=[second])
    assert list(tc._list_review_queue_items(queue.queue_id)) == []
