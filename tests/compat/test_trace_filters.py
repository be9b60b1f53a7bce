"""Trace filters on spans, assessments, issues and full text, through the official 3.18
client's ``mlflow.search_traces`` / ``MlflowClient.search_traces``, against trackd (and
``mlflow server`` with ``--compat-target mlflow``), on each database.

The traces and the filters with what each finds are in trace_filter_data.py (the same table
recorded from mlflow server 3.18 in docs/mlflow-captures/trace-filters.md).
"""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from . import trace_filter_data as data
from .conftest import unique_name
from .interop import InteropServers

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning"),
]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # log_issue / create_issue: experimental
def test_every_filter_finds_what_mlflow_finds(experiment_id: str, client: MlflowClient) -> None:
    ids = data.make_traces()
    issue = data.link_issue(experiment_id, ids["t_chat"])
    wrong = _mismatches(experiment_id, ids, {**data.MATCHES, **data.ISSUE_MATCHES}, issue)
    assert not wrong, wrong
    names = {v: k for k, v in ids.items()}
    # The client's other entry point, with paging: the same answer.
    page = client.search_traces(locations=[experiment_id], max_results=1,
                                filter_string="feedback.score >= 0.3 AND span.status = 'OK'")
    rest = client.search_traces(locations=[experiment_id], max_results=5, page_token=page.token,
                                filter_string="feedback.score >= 0.3 AND span.status = 'OK'")
    assert sorted(names[t.info.trace_id] for t in [*page, *rest]) == ["t_chat", "t_retrieve"]


def _mismatches(experiment_id: str, ids: dict[str, str], cases: dict[str, tuple[str, ...]],
                issue: str = "") -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    names = {v: k for k, v in ids.items()}
    wrong = {}
    for text, expected in cases.items():
        found = mlflow.search_traces(locations=[experiment_id], return_type="list",
                                     filter_string=text.replace("{issue}", issue))
        got = tuple(sorted(names[t.info.trace_id] for t in found))
        if got != expected:
            wrong[text] = (got, expected)
    return wrong


def _write(url: str, with_issue: bool) -> tuple[str, dict[str, str], str]:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(unique_name("trace-filters-interop"))
    mlflow.set_experiment(experiment_id=experiment_id)
    ids = data.make_traces()
    issue = data.link_issue(experiment_id, ids["t_chat"]) if with_issue else ""
    return experiment_id, ids, issue


def _read(url: str, written: tuple[str, dict[str, str], str]) -> None:
    mlflow.set_tracking_uri(url)
    experiment_id, ids, issue = written
    cases = {**data.MATCHES, **(data.ISSUE_MATCHES if issue else {})}
    wrong = _mismatches(experiment_id, ids, cases, issue)
    assert not wrong, wrong


@pytest.mark.filterwarnings("ignore::FutureWarning")  # log_issue / create_issue: experimental
@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_the_other_server_filters_the_same_traces_the_same_way(
        interop: InteropServers, first: str) -> None:
    """Traces and their issue references written by one server are found by every filter
    through the other: span contents and assessment values are stored alike."""
    interop.hand_over(first, lambda url: _write(url, True), _read)


def test_invalid_filters_are_refused_as_mlflow_refuses_them(experiment_id: str) -> None:
    wrong = {}
    for text, start in data.INVALID.items():
        try:
            mlflow.search_traces(locations=[experiment_id], filter_string=text,
                                 return_type="list")
        except MlflowException as exc:
            if exc.error_code != "INVALID_PARAMETER_VALUE" or start not in exc.message:
                wrong[text] = (exc.error_code, exc.message)
        else:
            wrong[text] = ("accepted", "")
    assert not wrong, wrong
