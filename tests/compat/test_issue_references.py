"""Issue references (``mlflow.log_issue``: an assessment whose value is ``issue``
``{issue_name}`` and whose name is the issue's id) through the official 3.18 client, against
trackd and, with ``--compat-target mlflow``, mlflow server: logged, read back with the trace,
found by the ``issue.id`` filter, updated and deleted as MLflow does it
(docs/mlflow-captures/issue-references.md)."""

from __future__ import annotations

import uuid
from typing import Any

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource, AssessmentSourceType, IssueReference
from mlflow.exceptions import MlflowException

from .conftest import must
from .interop import InteropServers

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # log_issue / create_issue: experimental
    pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning"),
]


def _trace() -> tuple[str, str]:
    with mlflow.start_span("answer") as span:
        span.set_inputs({"q": "why so slow?"})
    mlflow.flush_trace_async_logging(terminate=False)
    return span.trace_id, span.span_id


def _issue(experiment_id: str, name: str = "Slow answers") -> str:
    issue_id = f"iss-{uuid.uuid4().hex[:12]}"
    mlflow.genai.create_issue(name, severity="medium", description="slow", issue_id=issue_id,
                              experiment_id=experiment_id)
    return issue_id


def _found(experiment_id: str, issue_id: str) -> list[str]:
    return [t.info.trace_id for t in mlflow.search_traces(
        locations=[experiment_id], filter_string=f"issue.id = '{issue_id}'", return_type="list")]


def test_log_issue_round_trip(experiment_id: str, client: MlflowClient) -> None:
    trace_id, span_id = _trace()
    other_trace, _ = _trace()
    issue_id = _issue(experiment_id)
    source = AssessmentSource(AssessmentSourceType.HUMAN, "reviewer@example.com")
    logged = mlflow.log_issue(trace_id=trace_id, issue_id=issue_id, source=source,
                              rationale="took 9 s", metadata={"queue": "triage"},
                              span_id=span_id)
    assert isinstance(logged, IssueReference)
    assert (logged.issue_id, logged.issue_name, logged.rationale, logged.span_id) == (
        issue_id, "Slow answers", "took 9 s", span_id)
    assert logged.assessment_id and logged.assessment_id.startswith("a-")
    # The name defaults to the issue's, and the source to an LLM judge.
    plain = mlflow.log_issue(trace_id=trace_id, issue_id=issue_id)
    assert plain.source.source_type == "LLM_JUDGE"

    trace = must(mlflow.get_trace(trace_id))
    issues = [a for a in trace.info.assessments if isinstance(a, IssueReference)]
    seen = {a.assessment_id: (a.issue_id, a.issue_name, a.rationale, a.span_id, a.metadata,
                              a.source.source_type, a.source.source_id) for a in issues}
    assert seen == {
        logged.assessment_id: (issue_id, "Slow answers", "took 9 s", span_id,
                               {"queue": "triage"}, "HUMAN", "reviewer@example.com"),
        plain.assessment_id: (issue_id, "Slow answers", None, None, None, "LLM_JUDGE",
                              "default")}
    got = mlflow.get_assessment(trace_id, must(logged.assessment_id))
    assert isinstance(got, IssueReference) and got.issue_name == "Slow answers"

    assert _found(experiment_id, issue_id) == [trace_id]
    assert other_trace not in _found(experiment_id, issue_id)
    listed = mlflow.search_traces(locations=[experiment_id], return_type="list",
                                  filter_string=f"issue.id = '{issue_id}'")
    assert {a.assessment_id for a in listed[0].info.assessments} >= {logged.assessment_id}

    mlflow.delete_assessment(trace_id=trace_id, assessment_id=logged.assessment_id)
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=plain.assessment_id)
    assert _found(experiment_id, issue_id) == []


def test_a_wrong_name_is_refused_by_the_client(experiment_id: str) -> None:
    trace_id, _ = _trace()
    issue_id = _issue(experiment_id)
    with pytest.raises(MlflowException, match="does not match the issue name"):
        mlflow.log_issue(trace_id=trace_id, issue_id=issue_id, issue_name="Other")


def _post(url: str, trace_id: str, assessment: dict[str, Any]) -> requests.Response:
    return requests.post(f"{url}/api/3.0/mlflow/traces/{trace_id}/assessments",
                         json={"assessment": assessment}, timeout=60)


def test_rest_answers_as_mlflow_server(experiment_id: str, tracking_uri: str) -> None:
    trace_id, _ = _trace()
    # An issue without a name is kept with an empty one (the proto's default), as in MLflow;
    # the issue itself is not looked up (the client checks it before sending).
    answer = _post(tracking_uri, trace_id, {"assessment_name": "iss-unknown", "issue": {},
                                            "source": {"source_type": "HUMAN"}})
    assert answer.status_code == 200, answer.text
    body = answer.json()["assessment"]
    assert (body["assessment_name"], body["issue"], body["valid"]) == (
        "iss-unknown", {"issue_name": ""}, True)
    assert "feedback" not in body and "expectation" not in body
    missing = _post(tracking_uri, "tr-" + "0" * 32,
                    {"assessment_name": "iss-x", "issue": {"issue_name": "x"}})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # An issue reference has no feedback value to update.
    patch = requests.patch(
        f"{tracking_uri}/api/3.0/mlflow/traces/{trace_id}/assessments/{body['assessment_id']}",
        json={"assessment": {"feedback": {"value": 1}}, "update_mask": "feedback"}, timeout=60)
    assert patch.status_code == 400
    assert patch.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Cannot update feedback value" in patch.json()["message"]


def _write(url: str) -> tuple[str, str, str, str]:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(f"issue-refs-{uuid.uuid4().hex[:6]}")
    mlflow.set_experiment(experiment_id=experiment_id)
    trace_id, _ = _trace()
    issue_id = _issue(experiment_id)
    logged = mlflow.log_issue(trace_id=trace_id, issue_id=issue_id, rationale="slow")
    return experiment_id, trace_id, issue_id, must(logged.assessment_id)


def _read(url: str, written: tuple[str, str, str, str]) -> None:
    mlflow.set_tracking_uri(url)
    experiment_id, trace_id, issue_id, assessment_id = written
    assert _found(experiment_id, issue_id) == [trace_id]
    (ref,) = must(mlflow.get_trace(trace_id)).info.assessments
    assert isinstance(ref, IssueReference)
    assert (ref.assessment_id, ref.issue_id, ref.issue_name, ref.rationale) == (
        assessment_id, issue_id, "Slow answers", "slow")


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_the_other_server_reads_the_references(interop: InteropServers, first: str) -> None:
    interop.hand_over(first, _write, _read)
