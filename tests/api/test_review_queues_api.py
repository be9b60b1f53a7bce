"""Review queue routes in-process on every database: bad input gets MLflow 3.18's error code,
status and message (docs/mlflow-captures/review.md), and a refused request writes nothing.

What the official client does with them is in tests/compat/test_review_queues.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.answers import expect_error as _error

RQ = "/api/3.0/mlflow/review-queues"
BAD = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"


@pytest.fixture
def exp(api: Any) -> str:
    return str(api.new_experiment(f"rq-{uuid.uuid4().hex[:8]}"))


def _names(api: Any, exp: str) -> list[str]:
    listed = api.ok("GET", f"{RQ}/list", {"experiment_id": exp})
    return [q["name"] for q in listed.get("review_queues", [])]


def _trace(api: Any, exp: str) -> str:
    trace_id = f"tr-{uuid.uuid4().hex}"
    api.ok("POST", "/api/3.0/mlflow/traces", {"trace": {"trace_info": {
        "trace_id": trace_id, "request_time": "2024-01-01T00:00:00Z", "state": "OK",
        "trace_location": {"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": exp}}}}})
    return trace_id


@pytest.mark.parametrize(("extra", "message"), [
    ({"queue_type": None}, "`queue_type` must be one of USER or CUSTOM; got proto enum value 0."),
    ({"queue_type": "BOGUS"}, "`queue_type` must be one of USER or CUSTOM"),
    ({"name": None}, "Missing value for required parameter 'name'"),
    ({"name": "   "}, "`name` must be a non-empty string; got ''."),
    ({"name": "n" * 251}, "`name` must be at most 250 characters; got 251."),
    ({"name": " Default "}, "`Default` is a reserved queue name"),
    ({"name": 5}, "Invalid value 5 for parameter 'name'"),
    ({"users": [f"u{i}" for i in range(11)]}, "at most 10 assigned users; got 11."),
    ({"users": ["ana", " "]}, "`user` must be a non-empty string; got ''."),
    ({"users": "ana"}, "for parameter 'users'"),
    ({"schema_ids": ["ls-nope"]}, "Label schema id(s) ['ls-nope'] not found for experiment"),
    ({"queue_type": "USER", "name": "mine", "users": ["ana"]},
     "A user queue must have exactly one assigned user equal to its name; got name='mine' "
     "and users=['ana']."),
    ({"queue_type": "USER", "name": "mine", "schema_ids": ["ls-x"]},
     "A user queue cannot have explicitly-attached schemas"),
    ({"experiment_id": "abc"}, "Invalid experiment ID 'abc'"),
    ({"experiment_id": None}, "Missing value for required parameter 'experiment_id'"),
])
def test_create_refuses_bad_input(api: Any, exp: str, extra: dict[str, Any],
                                  message: str) -> None:
    body = {"experiment_id": exp, "name": "Q", "queue_type": "CUSTOM", **extra}
    body = {k: v for k, v in body.items() if v is not None}
    assert message in _error(api.post(f"{RQ}/create", body), 400, BAD)
    assert _names(api, exp) == []


def test_lookup_errors(api: Any, exp: str) -> None:
    made = api.ok("POST", f"{RQ}/create", {"experiment_id": exp, "name": "Team",
                                           "queue_type": 2})["review_queue"]
    assert made["queue_type"] == "CUSTOM" and "users" not in made
    assert _error(api.post(f"{RQ}/create", {"experiment_id": exp, "name": "TEAM",
                                            "queue_type": "CUSTOM"}), 400,
                  "RESOURCE_ALREADY_EXISTS") == \
        "Review queue with name 'TEAM' already exists (names are case-insensitive)."
    assert _error(api.post(f"{RQ}/create", {"experiment_id": "999999", "name": "x",
                                            "queue_type": "CUSTOM"}), 404, MISSING) == \
        "No Experiment with id=999999 exists"
    assert _error(api.post(f"{RQ}/get-or-create-user", {"experiment_id": exp, "user": "team"}),
                  400, "RESOURCE_ALREADY_EXISTS").startswith("A non-user queue named 'team'")
    assert "'user'" in _error(api.post(f"{RQ}/get-or-create-user", {"experiment_id": exp}),
                              400, BAD)
    assert _error(api.get(f"{RQ}/get", {"queue_id": "rq-nope"}), 404, MISSING) == \
        "Review queue with id 'rq-nope' not found."
    assert "'queue_id'" in _error(api.get(f"{RQ}/get"), 400, BAD)
    # get-by-name folds case but does not trim.
    assert _error(api.get(f"{RQ}/get-by-name", {"experiment_id": exp, "name": " team "}), 404,
                  MISSING) == f"Review queue with name ' team ' not found for experiment '{exp}'."
    for path in ("list", "get-by-name"):
        _error(api.get(f"{RQ}/{path}", {"experiment_id": "999999", "name": "x"}), 404, MISSING)
    for bad in ("0", "50001"):
        assert "max_results must be between 1 and 50000" in _error(
            api.get(f"{RQ}/list", {"experiment_id": exp, "max_results": bad}), 400, BAD)
    assert _error(api.get(f"{RQ}/list", {"experiment_id": exp, "page_token": "garbage"}), 400,
                  BAD) == "Invalid page token, could not base64-decode"
    assert api.ok("POST", f"{RQ}/delete", {"queue_id": "rq-nope"}) == {}
    assert "'queue_id'" in _error(api.post(f"{RQ}/delete", {}), 400, BAD)


def test_update_errors_change_nothing(api: Any, exp: str) -> None:
    team = api.ok("POST", f"{RQ}/create", {"experiment_id": exp, "name": "Team",
                                           "queue_type": "CUSTOM"})["review_queue"]
    api.ok("POST", f"{RQ}/create", {"experiment_id": exp, "name": "Other",
                                    "queue_type": "CUSTOM"})
    mine = api.ok("POST", f"{RQ}/get-or-create-user", {"experiment_id": exp,
                                                       "user": " Zed "})["review_queue"]
    assert (mine["name"], mine["created_by"], mine["users"]) == ("zed", "zed", ["zed"])
    queue_id = team["queue_id"]
    for body, status, code, message in [
        ({"name": "default"}, 400, BAD, "`default` is a reserved queue name"),
        ({"name": "OTHER", "new_owner": "carl"}, 400, "RESOURCE_ALREADY_EXISTS",
         "Review queue with name 'OTHER' already exists"),
        ({"new_owner": " "}, 400, BAD, "`new_owner` must be a non-empty string; got ''."),
        ({"update_schema_ids": True, "schema_ids": ["ls-nope"]}, 400, BAD,
         "Label schema id(s) ['ls-nope'] not found"),
        ({"update_users": "yes", "users": ["a"]}, 400, BAD, "Invalid boolean value: yes"),
    ]:
        assert message in _error(api.post(f"{RQ}/update", {"queue_id": queue_id, **body}),
                                 status, code)
    assert api.ok("GET", f"{RQ}/get", {"queue_id": queue_id})["review_queue"] == team
    # Lists without their update_* flag are ignored: nothing changes, not even the time.
    assert api.ok("POST", f"{RQ}/update", {"queue_id": queue_id, "users": ["a"]})[
        "review_queue"] == team
    assert "cannot be updated" in _error(
        api.post(f"{RQ}/update", {"queue_id": mine["queue_id"]}), 400, BAD)
    assert _error(api.post(f"{RQ}/update", {"queue_id": "rq-nope"}), 404, MISSING) == \
        "Review queue with id 'rq-nope' not found."
    changed = api.ok("POST", f"{RQ}/update", {"queue_id": queue_id, "name": "  Team2 ",
                                              "new_owner": " Carl "})["review_queue"]
    assert (changed["name"], changed["created_by"]) == ("Team2", "Carl")


def test_item_errors(api: Any, exp: str) -> None:
    queue_id = api.ok("POST", f"{RQ}/create", {"experiment_id": exp, "name": "Q",
                                               "queue_type": "CUSTOM"})["review_queue"]["queue_id"]
    trace_id = _trace(api, exp)
    other = _trace(api, str(api.new_experiment(f"rq-other-{uuid.uuid4().hex[:8]}")))
    add = f"{RQ}/items/add"
    for items, message in [([], "`item_ids` must be a non-empty list; got []."),
                           ([""], "`item_id` must be a non-empty string; got ''."),
                           (["x" * 51], "`item_id` must be at most 50 characters; got 51.")]:
        assert _error(api.post(add, {"queue_id": queue_id, "item_ids": items}), 400,
                      BAD) == message
    assert _error(api.post(add, {"queue_id": queue_id, "item_ids": [trace_id, other]}), 404,
                  MISSING) == (f"Cannot attach trace(s) ['{other}'] to review queue "
                               f"'{queue_id}': they do not exist in experiment '{exp}'.")
    assert "items" not in api.ok("GET", f"{RQ}/items/list", {"queue_id": queue_id})
    _error(api.post(add, {"queue_id": "rq-nope", "item_ids": [trace_id]}), 404, MISSING)
    (item,) = api.ok("POST", add, {"queue_id": queue_id, "item_ids": [f" {trace_id} "],
                                   "item_type": "BOGUS"})["items"]
    assert (item["item_id"], item["item_type"], item["status"]) == (trace_id, "TRACE",
                                                                    "PENDING")

    status = f"{RQ}/items/set-status"
    base = {"queue_id": queue_id, "item_id": trace_id}
    for body, message in [
        ({}, "`status` must be one of PENDING, COMPLETE, or DECLINED; got proto enum value 0."),
        ({"status": "DECLINED"}, "`completed_by` is required when setting status to `declined`."),
        ({"status": "PENDING", "completed_by": "ana"},
         "`completed_by` must not be set when reopening an item to `pending`."),
        ({"status": "COMPLETE", "completed_by": "x" * 251},
         "`completed_by` must be at most 250 characters; got 251."),
    ]:
        assert _error(api.post(status, {**base, **body}), 400, BAD) == message
    assert _error(api.post(status, {**base, "item_id": "tr-nope", "status": "COMPLETE",
                                    "completed_by": "a"}), 404, MISSING) == \
        f"Item 'tr-nope' is not attached to review queue '{queue_id}'."
    assert api.ok("GET", f"{RQ}/items/list", {"queue_id": queue_id})["items"] == [item]
    assert "max_results must be between" in _error(
        api.get(f"{RQ}/items/list", {"queue_id": queue_id, "max_results": "50001"}), 400, BAD)
    _error(api.get(f"{RQ}/items/list", {"queue_id": "rq-nope"}), 404, MISSING)
    assert _error(api.post(f"{RQ}/items/remove", {"queue_id": queue_id, "item_ids": []}), 400,
                  BAD) == "`item_ids` must be a non-empty list; got []."
    _error(api.post(f"{RQ}/items/remove", {"queue_id": "rq-nope", "item_ids": ["x"]}), 404,
           MISSING)
    assert "'item_id'" in _error(api.post(status, {"queue_id": queue_id}), 400, BAD)
