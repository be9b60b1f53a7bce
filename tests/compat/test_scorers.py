"""Registered scorers through the official 3.18 client (``mlflow.genai.scorers``): register a
built-in judge, list, read versions, online scoring start/update/stop, delete, and the
refusals both servers share, against trackd (and ``mlflow server`` with
``--compat-target mlflow``), on each database. No judge is ever run."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.genai.scorers import (
    RelevanceToQuery,
    ScorerSamplingConfig,
    delete_scorer,
    get_scorer,
    list_scorers,
    scorer,
)

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

MODEL = "openai:/gpt-4o-mini"  # never called: only stored


def test_register_list_get_and_delete(experiment_id: str) -> None:
    judge = RelevanceToQuery(model=MODEL)
    judge.register(name="relevance", experiment_id=experiment_id)
    judge.register(name="relevance", experiment_id=experiment_id)  # version 2
    RelevanceToQuery(model=MODEL).register(name="other", experiment_id=experiment_id)

    found = list_scorers(experiment_id=experiment_id)
    assert sorted(s.name for s in found) == ["other", "relevance"]
    latest = get_scorer(name="relevance", experiment_id=experiment_id)
    assert isinstance(latest, RelevanceToQuery) and latest.model == MODEL
    first = get_scorer(name="relevance", experiment_id=experiment_id, version=1)
    assert first.name == "relevance"
    store = MlflowClient()._tracking_client.store
    versions = store.list_scorer_versions(experiment_id, "relevance")
    assert [v.scorer_version for v in versions] == [1, 2]
    assert versions[0].scorer_id == versions[1].scorer_id

    with pytest.raises(MlflowException) as err:
        get_scorer(name="relevance", experiment_id=experiment_id, version=9)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    delete_scorer(name="relevance", experiment_id=experiment_id, version=1)
    assert [v.scorer_version for v in store.list_scorer_versions(experiment_id, "relevance")
            ] == [2]
    delete_scorer(name="relevance", experiment_id=experiment_id, version="all")
    assert [s.name for s in list_scorers(experiment_id=experiment_id)] == ["other"]
    with pytest.raises(MlflowException) as err:
        get_scorer(name="relevance", experiment_id=experiment_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_online_scoring(experiment_id: str) -> None:
    RelevanceToQuery(model=MODEL).register(name="online", experiment_id=experiment_id)
    registered = get_scorer(name="online", experiment_id=experiment_id)
    # Both servers sample only judges on a gateway endpoint.
    with pytest.raises(MlflowException) as err:
        registered.start(experiment_id=experiment_id,
                         sampling_config=ScorerSamplingConfig(sample_rate=0.5))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "gateway model" in err.value.message
    updated = registered.update(experiment_id=experiment_id,
                                sampling_config=ScorerSamplingConfig(
                                    sample_rate=0.0, filter_string="tags.env = 'prod'"))
    assert updated.sample_rate == 0.0 and updated.filter_string == "tags.env = 'prod'"
    again = get_scorer(name="online", experiment_id=experiment_id)
    assert again.sample_rate == 0.0 and again.filter_string == "tags.env = 'prod'"
    stopped = again.stop(experiment_id=experiment_id)
    assert stopped.sample_rate == 0.0
    assert get_scorer(name="online", experiment_id=experiment_id).filter_string is None


def test_refusals(experiment_id: str) -> None:
    @scorer
    def short(outputs: str) -> bool:
        return len(str(outputs)) < 100

    with pytest.raises(MlflowException) as err:
        short.register(name="short", experiment_id=experiment_id)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Custom scorer registration" in err.value.message
    with pytest.raises(MlflowException) as err:
        RelevanceToQuery(model=MODEL).register(name="r", experiment_id="987654321")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as err:
        get_scorer(name="never-registered", experiment_id=experiment_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert list_scorers(experiment_id=experiment_id) == []
