"""Label schemas through the official 3.18 client (``mlflow.genai.label_schemas``), against
trackd (and ``mlflow server`` with ``--compat-target mlflow``) on each database."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException
from mlflow.genai import label_schemas as ls

pytestmark = [
    pytest.mark.compat,
    # Parts of the genai API are marked experimental in 3.18 and say so on every call.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def test_each_input_kind_round_trips(experiment_id: str) -> None:
    # The first listing adds the experiment's protected default question.
    (default,) = ls.list_label_schemas(experiment_id=experiment_id)
    assert (default.name, default.is_default, default.input) == ("Feedback", True, ls.InputText())
    made = {
        "Correct?": ls.create_label_schema(
            "Correct?", type="feedback", experiment_id=experiment_id,
            input=ls.InputPassFail(positive_label="Yes", negative_label="No"),
            instruction="Is the answer right?", enable_comment=True),
        "Tone": ls.create_label_schema(
            "Tone", type="expectation", experiment_id=experiment_id,
            input=ls.InputCategorical(options=["calm", "curt"], multi_select=True)),
        "Score": ls.create_label_schema(
            "Score", type="feedback", experiment_id=experiment_id,
            input=ls.InputNumeric(min_value=0, max_value=5)),
        "Notes": ls.create_label_schema(
            "Notes", type="feedback", experiment_id=experiment_id,
            input=ls.InputText(max_length=200)),
    }
    assert made["Correct?"].input == ls.InputPassFail(positive_label="Yes", negative_label="No")
    assert made["Correct?"].enable_comment is True
    assert made["Correct?"].instruction == "Is the answer right?"
    assert made["Tone"].type == "expectation"
    assert made["Tone"].input == ls.InputCategorical(options=["calm", "curt"], multi_select=True)
    assert made["Score"].input == ls.InputNumeric(min_value=0.0, max_value=5.0)
    assert made["Notes"].input == ls.InputText(max_length=200)
    for name, schema in made.items():
        assert schema.schema_id and schema.experiment_id == experiment_id
        by_id = ls.get_label_schema(schema_id=schema.schema_id)
        by_name = ls.get_label_schema(name, experiment_id=experiment_id)
        assert by_id == schema == by_name

    listed = ls.list_label_schemas(experiment_id=experiment_id)
    assert [s.name for s in listed] == ["Notes", "Score", "Tone", "Correct?", "Feedback"]
    assert listed[-1] == default
    page = ls.list_label_schemas(experiment_id=experiment_id, max_results=2)
    assert len(page) == 2 and page.token
    rest = ls.list_label_schemas(experiment_id=experiment_id, max_results=10,
                                 page_token=page.token)
    assert [s.name for s in rest] == ["Tone", "Correct?", "Feedback"]


def test_update_and_delete(experiment_id: str) -> None:
    schema = ls.create_label_schema(
        "Correct?", type="feedback", experiment_id=experiment_id,
        input=ls.InputPassFail(positive_label="Yes", negative_label="No"))
    ls.create_label_schema("Taken", type="feedback", experiment_id=experiment_id,
                           input=ls.InputText())
    updated = ls.update_label_schema(
        schema.schema_id, name="Right?", instruction="new", enable_comment=True,
        input=ls.InputPassFail(positive_label="Good", negative_label="Bad"))
    assert (updated.name, updated.instruction, updated.enable_comment) == ("Right?", "new", True)
    assert updated.input == ls.InputPassFail(positive_label="Good", negative_label="Bad")
    with pytest.raises(MlflowException) as exc:
        ls.update_label_schema(schema.schema_id, input=ls.InputText())
    assert "input type cannot be changed" in exc.value.message
    with pytest.raises(MlflowException) as exc:
        ls.update_label_schema(schema.schema_id, name="Taken")
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    default = next(s for s in ls.list_label_schemas(experiment_id=experiment_id) if s.is_default)
    with pytest.raises(MlflowException) as exc:
        ls.delete_label_schema(schema_id=default.schema_id)
    assert "cannot be deleted" in exc.value.message

    ls.delete_label_schema(schema_id=schema.schema_id)
    ls.delete_label_schema(schema_id=schema.schema_id)  # again: a no-op
    with pytest.raises(MlflowException) as exc:
        ls.get_label_schema(schema_id=schema.schema_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_refused_input(experiment_id: str) -> None:
    ls.create_label_schema("Once", type="feedback", experiment_id=experiment_id,
                           input=ls.InputText())
    for kwargs, code in (
        ({"name": "Once", "input": ls.InputText()}, "RESOURCE_ALREADY_EXISTS"),
        ({"name": "Feedback", "input": ls.InputText()}, "INVALID_PARAMETER_VALUE"),
        ({"name": "x", "input": ls.InputCategorical(options=["a", "a"])},
         "INVALID_PARAMETER_VALUE"),
    ):
        with pytest.raises(MlflowException) as exc:
            ls.create_label_schema(type="feedback", experiment_id=experiment_id, **kwargs)
        assert exc.value.error_code == code
    with pytest.raises(MlflowException) as exc:
        ls.get_label_schema("missing", experiment_id=experiment_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
