"""Label schema routes in-process on every database: bad input gets MLflow 3.18's error code,
status and message (docs/mlflow-captures/review.md), and a refused request writes nothing.

What the official client does with them is in tests/compat/test_label_schemas.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.answers import expect_error as _error

LS = "/api/3.0/mlflow/label-schemas"


@pytest.fixture
def exp(api: Any) -> str:
    return str(api.new_experiment(f"ls-{uuid.uuid4().hex[:8]}"))


def _names(api: Any, exp: str) -> list[str]:
    listed = api.ok("GET", f"{LS}/list", {"experiment_id": exp})
    return [s["name"] for s in listed.get("label_schemas", [])]


@pytest.mark.parametrize(("extra", "message"), [
    ({"type": None}, "Label schema `type` must be one of FEEDBACK or EXPECTATION"),
    ({"type": "BOGUS"}, "Label schema `type` must be one of FEEDBACK or EXPECTATION"),
    ({"input": None}, "Label schema `input` must have exactly one of"),
    ({"input": {}}, "Label schema `input` must have exactly one of"),
    ({"input": {"text": {}, "numeric": {}}}, "Label schema `input` must have exactly one of"),
    ({"input": "text"}, "Label schema `input` must have exactly one of"),
    ({"name": None}, "Missing value for required parameter 'name'"),
    ({"name": ""}, "Missing value for required parameter 'name'"),
    ({"name": "n" * 251}, "Label schema `name` must be at most 250 characters; got 251."),
    ({"name": " feedback "}, "is reserved for the experiment's default question"),
    ({"instruction": "i" * 1001}, "Label schema `instruction` must be at most 1000"),
    ({"enable_comment": "yes"}, "Label schema `enable_comment` must be a bool; got str."),
    ({"input": {"pass_fail": {"positive_label": "Y", "negative_label": "Y"}}},
     "must be distinct; got 'Y' for both."),
    ({"input": {"pass_fail": {"positive_label": "Y"}}},
     "`InputPassFail.negative_label` must be a non-empty string; got ''."),
    ({"input": {"pass_fail": {"positive_label": "Y" * 65, "negative_label": "N"}}},
     "`InputPassFail.positive_label` must be at most 64 characters; got 65."),
    ({"input": {"categorical": {"options": []}}}, "must be a non-empty list; got []."),
    ({"input": {"categorical": {"options": ["a", "a"]}}}, "'a' appears twice."),
    ({"input": {"categorical": {"options": [str(i) for i in range(11)]}}},
     "must have at most 10 entries; got 11."),
    ({"input": {"categorical": {"options": [""]}}}, "entries must be non-empty strings"),
    ({"input": {"categorical": {"options": ["a"], "multi_select": "no"}}},
     "`InputCategorical.multi_select` must be a bool"),
    ({"input": {"numeric": {"min_value": 5, "max_value": 1}}}, "got min=5.0, max=1.0."),
    ({"input": {"numeric": {"min_value": "low"}}}, "`InputNumeric.min_value` must be numeric"),
    ({"input": {"text": {"max_length": 0}}}, "`InputText.max_length` must be at least 1; got 0."),
    ({"input": {"text": {"max_length": 1.5}}}, "`InputText.max_length` must be an int"),
    ({"experiment_id": "abc"}, "Invalid experiment ID 'abc'"),
])
def test_create_refuses_bad_input(api: Any, exp: str, extra: dict[str, Any],
                                  message: str) -> None:
    body = {"experiment_id": exp, "name": "Q", "type": "FEEDBACK", "input": {"text": {}},
            **extra}
    body = {k: v for k, v in body.items() if v is not None}
    assert message in _error(api.post(f"{LS}/create", body), 400, "INVALID_PARAMETER_VALUE")
    assert _names(api, exp) == ["Feedback"]  # only the default question, seeded by listing


def test_lookups_and_lifecycle_errors(api: Any, exp: str) -> None:
    new = {"experiment_id": exp, "name": "Q", "type": "EXPECTATION", "input": {"text": {}}}
    made = api.ok("POST", f"{LS}/create", new)["label_schema"]
    assert made["type"] == "EXPECTATION" and made["input"] == {"text": {}}
    assert "already exists for experiment" in _error(api.post(f"{LS}/create", new), 400,
                                                     "RESOURCE_ALREADY_EXISTS")
    assert _error(api.get(f"{LS}/get", {"schema_id": "ls-nope"}), 404,
                  "RESOURCE_DOES_NOT_EXIST") == "Label schema with id 'ls-nope' not found."
    assert "'schema_id'" in _error(api.get(f"{LS}/get"), 400, "INVALID_PARAMETER_VALUE")
    assert _error(api.get(f"{LS}/get-by-name", {"experiment_id": exp, "name": "nope"}), 404,
                  "RESOURCE_DOES_NOT_EXIST") == \
        f"Label schema with name 'nope' not found for experiment '{exp}'."
    for path in ("list", "get-by-name"):
        _error(api.get(f"{LS}/{path}", {"experiment_id": "999999", "name": "Q"}), 404,
               "RESOURCE_DOES_NOT_EXIST")
    for bad in ("0", "50001"):
        assert "max_results must be between 1 and 50000" in _error(
            api.get(f"{LS}/list", {"experiment_id": exp, "max_results": bad}), 400,
            "INVALID_PARAMETER_VALUE")
    _error(api.get(f"{LS}/list", {"experiment_id": exp, "page_token": "!!"}), 400,
           "INVALID_PARAMETER_VALUE")
    assert _error(api.call("PATCH", f"{LS}/update", {"schema_id": "ls-nope", "name": "z"}),
                  404, "RESOURCE_DOES_NOT_EXIST") == "Label schema with id 'ls-nope' not found."
    assert "cannot be changed after creation" in _error(
        api.call("PATCH", f"{LS}/update", {"schema_id": made["schema_id"],
                                           "input": {"numeric": {}}}),
        400, "INVALID_PARAMETER_VALUE")
    assert api.ok("GET", f"{LS}/get", {"schema_id": made["schema_id"]})["label_schema"] == made

    default = next(s for s in api.ok("GET", f"{LS}/list", {"experiment_id": exp})[
        "label_schemas"] if s["is_default"])
    assert _error(api.call("PATCH", f"{LS}/update", {"schema_id": default["schema_id"],
                                                     "instruction": "x"}), 400,
                  "INVALID_PARAMETER_VALUE") == \
        "The experiment's default question cannot be edited."
    assert _error(api.call("DELETE", f"{LS}/delete", {"schema_id": default["schema_id"]}), 400,
                  "INVALID_PARAMETER_VALUE") == \
        "The experiment's default question cannot be deleted."
    assert api.ok("DELETE", f"{LS}/delete", {"schema_id": made["schema_id"]}) == {}
    assert api.ok("DELETE", f"{LS}/delete", {"schema_id": made["schema_id"]}) == {}
    assert _names(api, exp) == ["Feedback"]


def test_categorical_multi_select_is_fixed(api: Any, exp: str) -> None:
    made = api.ok("POST", f"{LS}/create", {
        "experiment_id": exp, "name": "Tone", "type": "FEEDBACK",
        "input": {"categorical": {"options": ["a", "b"]}}})["label_schema"]
    assert made["input"] == {"categorical": {"options": ["a", "b"], "multi_select": False}}
    assert _error(api.call("PATCH", f"{LS}/update", {
        "schema_id": made["schema_id"],
        "input": {"categorical": {"options": ["a"], "multi_select": True}}}), 400,
        "INVALID_PARAMETER_VALUE") == \
        "`InputCategorical.multi_select` cannot be changed after creation."
    changed = api.ok("PATCH", f"{LS}/update", {
        "schema_id": made["schema_id"],
        "input": {"categorical": {"options": ["a", "c"]}}})["label_schema"]
    assert changed["input"]["categorical"]["options"] == ["a", "c"]
