"""Issue routes in-process on every database: bad input gets MLflow 3.18's error code, status
and message (as captured in docs/mlflow-captures/review.md), and nothing half-written stays.

What the official client does with them is in tests/compat/test_issues.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.answers import expect_error as _error

ISSUES = "/api/3.0/mlflow/issues"


@pytest.fixture
def exp(api: Any) -> str:
    return str(api.new_experiment(f"issues-{uuid.uuid4().hex[:8]}"))


def _new(api: Any, exp: str, **extra: Any) -> dict[str, Any]:
    body = {"experiment_id": exp, "name": "Slow", "description": "d", **extra}
    return dict(api.ok("POST", ISSUES, body)["issue"])


@pytest.mark.parametrize(("extra", "message"), [
    ({"name": None}, "Missing value for required parameter 'name'"),
    ({"name": ""}, "Missing value for required parameter 'name'"),
    ({"description": None}, "Missing value for required parameter 'description'"),
    ({"experiment_id": None}, "Missing value for required parameter 'experiment_id'"),
    ({"experiment_id": "abc"}, "Invalid experiment ID 'abc'"),
    ({"name": "x" * 251}, "Issue name must contain 1 to 250 characters"),
    ({"name": 5}, "parameter 'name'"),
    ({"status": "open"}, "Invalid issue status: 'open'"),
    ({"severity": "critical"}, "Invalid issue severity: 'critical'"),
    ({"issue_id": "bad"}, "issue_id must be iss-* and at most 36 characters"),
    ({"issue_id": "iss-" + "a" * 33}, "issue_id must be iss-*"),
    ({"last_seen_timestamp": -1}, "last_seen_timestamp must be nonnegative milliseconds"),
    ({"last_seen_timestamp": "abc"}, "last_seen_timestamp must be nonnegative milliseconds"),
    ({"last_seen_timestamp": True}, "last_seen_timestamp must be nonnegative milliseconds"),
    ({"categories": "a"}, "parameter 'categories'"),
    ({"categories": [""]}, "categories must contain at most 100 nonempty strings"),
    ({"categories": ["c"] * 101}, "categories must contain at most 100 nonempty strings"),
    ({"metadata": {"k": 1}}, "metadata must be a string map"),
    ({"metadata": ["k"]}, "metadata must be a string map"),
    ({"created_by": "u" * 256}, "Invalid created_by"),
])
def test_create_refuses_bad_input(api: Any, exp: str, extra: dict[str, Any],
                                  message: str) -> None:
    body = {"experiment_id": exp, "name": "Slow", "description": "d", **extra}
    body = {k: v for k, v in body.items() if v is not None}
    assert message in _error(api.post(ISSUES, body), 400, "INVALID_PARAMETER_VALUE")
    # Nothing was written.
    assert "issues" not in api.ok("POST", f"{ISSUES}/search", {"experiment_id": exp})


def test_create_checks_experiment_run_and_id(api: Any, exp: str) -> None:
    message = _error(api.post(ISSUES, {"experiment_id": "999999", "name": "x",
                                       "description": "d"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == "No Experiment with id=999999 exists"
    message = _error(api.post(ISSUES, {"experiment_id": exp, "name": "x", "description": "d",
                                       "source_run_id": "0" * 32}),
                     404, "RESOURCE_DOES_NOT_EXIST")
    assert message == f"Run with id={'0' * 32} not found"
    other = api.new_run(api.new_experiment(f"other-{uuid.uuid4().hex[:8]}"))
    message = _error(api.post(ISSUES, {"experiment_id": exp, "name": "x", "description": "d",
                                       "source_run_id": other}), 400, "INVALID_PARAMETER_VALUE")
    assert message == "Source run must belong to the Issue experiment"
    fixed = f"iss-{uuid.uuid4().hex[:12]}"
    _new(api, exp, issue_id=fixed)
    assert _error(api.post(ISSUES, {"experiment_id": exp, "name": "y", "description": "d",
                                    "issue_id": fixed}), 400,
                  "RESOURCE_ALREADY_EXISTS") == "Issue ID already exists"
    api.ok("POST", "experiments/delete", {"experiment_id": exp})
    _error(api.post(ISSUES, {"experiment_id": exp, "name": "x", "description": "d"}),
           404, "RESOURCE_DOES_NOT_EXIST")


def test_get_and_update_errors(api: Any, exp: str) -> None:
    assert _error(api.get(f"{ISSUES}/iss-nope"), 404, "RESOURCE_DOES_NOT_EXIST") == \
        "Issue with ID 'iss-nope' not found"
    issue = _new(api, exp, metadata={"a": "1"})
    path = f"{ISSUES}/{issue['issue_id']}"
    # MLflow requires issue_id in the body too.
    assert "'issue_id'" in _error(api.call("PATCH", path, {"name": "n"}), 400,
                                  "INVALID_PARAMETER_VALUE")
    for body, message in (
        ({"status": "bogus"}, "Invalid issue status: 'bogus'"),
        ({"name": ""}, "Issue name must contain 1 to 250 characters"),
        ({"last_seen_timestamp": -3}, "last_seen_timestamp must be nonnegative"),
        ({"metadata": {"a": "2"}, "delete_metadata_keys": ["a"]},
         "Cannot update and delete the same key"),
        ({"delete_metadata_keys": [""]}, "delete_metadata_keys must contain"),
        ({"last_updated_by": "u" * 256}, "Invalid last_updated_by"),
    ):
        body = {"issue_id": issue["issue_id"], **body}
        assert message in _error(api.call("PATCH", path, body), 400, "INVALID_PARAMETER_VALUE")
    assert api.ok("GET", path)["issue"] == issue  # unchanged by the refused updates
    _error(api.call("PATCH", f"{ISSUES}/iss-nope", {"issue_id": "iss-nope", "name": "n"}),
           404, "RESOURCE_DOES_NOT_EXIST")
    # The path names the issue; the body's issue_id is only required to be there.
    renamed = api.ok("PATCH", path, {"issue_id": "iss-other", "name": "via path"})["issue"]
    assert (renamed["issue_id"], renamed["name"]) == (issue["issue_id"], "via path")
    cleared = api.ok("PATCH", path, {"issue_id": issue["issue_id"],
                                     "delete_metadata_keys": ["a"]})["issue"]
    assert "metadata" not in cleared


@pytest.mark.parametrize(("body", "message"), [
    ({"filter_string": "name = 'x'"}, "Invalid filter field 'name'"),
    ({"filter_string": "status > 'x'"}, "Invalid comparator '>'"),
    ({"filter_string": "status = 'a' OR status = 'b'"}, "Invalid clause(s) in filter string"),
    ({"view": "medium"}, "view must be basic or full"),
    ({"order_by": ["bogus"]}, "Invalid issue order_by: 'bogus'"),
    ({"order_by": ["name sideways"]}, "Invalid issue order_by: 'name sideways'"),
    ({"statuses": ["open"]}, "Invalid issue status: 'open'"),
    ({"severities": ["critical"]}, "Invalid issue severity: 'critical'"),
    ({"max_results": 0}, "It must be a positive integer"),
    ({"max_results": 50001}, "It must be at most 50000"),
    ({"max_results": "abc"}, "parameter 'max_results'"),
    ({"page_token": "garbage"}, "Invalid page token or token does not match the issue query"),
    ({"experiment_id": "abc"}, "Invalid experiment ID 'abc'"),
    ({"include_trace_count": "yes"}, "yes"),
    ({"name": "n" * 251}, "name must be a string of at most 250 characters"),
])
def test_search_refuses_bad_input(api: Any, exp: str, body: dict[str, Any],
                                  message: str) -> None:
    request = {"experiment_id": exp, **body}
    for prefix in ("/api", "/ajax-api"):
        found = _error(api.post(f"{prefix}/3.0/mlflow/issues/search", request), 400,
                       "INVALID_PARAMETER_VALUE")
        assert message in found


def test_search_token_belongs_to_its_query(api: Any, exp: str) -> None:
    for name in ("a", "b", "c"):
        _new(api, exp, name=name)
    first = api.ok("POST", f"{ISSUES}/search", {"experiment_id": exp, "max_results": 1})
    token = first["next_page_token"]
    assert token
    _error(api.post(f"{ISSUES}/search", {"experiment_id": exp, "max_results": 1,
                                         "name": "a", "page_token": token}),
           400, "INVALID_PARAMETER_VALUE")
    # A token from mlflow server (base64 of {"offset": n}) still pages a plain search.
    page = api.ok("POST", f"{ISSUES}/search", {"experiment_id": exp, "max_results": 1,
                                               "page_token": "eyJvZmZzZXQiOiAyfQ=="})
    assert len(page["issues"]) == 1 and page["next_page_token"] == ""
    assert api.ok("POST", f"{ISSUES}/search", {"experiment_id": "999999"}) == {
        "next_page_token": ""}


def test_detection_jobs_are_not_available(api: Any, exp: str) -> None:
    for path in ("/ajax-api/3.0/mlflow/issues/invoke",
                 "/ajax-api/3.0/mlflow/issues/schedule/state"):
        _error(api.post(path, {"experiment_id": exp}), 501, "NOT_IMPLEMENTED")
    # As in mlflow server: under /api/3.0 these are not routes of their own.
    status, _ = api.post(f"{ISSUES}/invoke", {"experiment_id": exp})
    assert status == 405
