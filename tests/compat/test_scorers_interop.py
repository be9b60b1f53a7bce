"""Swap the server, keep the scorers: a judge registered (two versions, online settings)
through trackd is read and changed by ``mlflow server`` 3.18 on the same database, and the
other way round."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.genai.scorers import (
    RelevanceToQuery,
    ScorerSamplingConfig,
    delete_scorer,
    get_scorer,
    list_scorers,
)

from .conftest import unique_name
from .interop import InteropServers

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

MODEL = "openai:/gpt-4o-mini"


def _write(url: str) -> str:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(unique_name("scorers-interop"))
    RelevanceToQuery(model=MODEL).register(name="relevance", experiment_id=experiment_id)
    RelevanceToQuery(model="openai:/gpt-4o").register(name="relevance",
                                                      experiment_id=experiment_id)
    get_scorer(name="relevance", experiment_id=experiment_id).update(
        experiment_id=experiment_id,
        sampling_config=ScorerSamplingConfig(sample_rate=0.0, filter_string="tags.a = 'b'"))
    return experiment_id


def _read(url: str, experiment_id: str) -> None:
    mlflow.set_tracking_uri(url)
    assert [s.name for s in list_scorers(experiment_id=experiment_id)] == ["relevance"]
    latest = get_scorer(name="relevance", experiment_id=experiment_id)
    assert latest.model == "openai:/gpt-4o" and latest.filter_string == "tags.a = 'b'"
    assert get_scorer(name="relevance", experiment_id=experiment_id, version=1).model == MODEL
    # The second server numbers on from the first one's versions.
    RelevanceToQuery(model=MODEL).register(name="relevance", experiment_id=experiment_id)
    store = MlflowClient()._tracking_client.store
    assert [v.scorer_version for v in store.list_scorer_versions(experiment_id, "relevance")
            ] == [1, 2, 3]
    delete_scorer(name="relevance", experiment_id=experiment_id, version="all")
    assert list_scorers(experiment_id=experiment_id) == []


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_scorers_move_between_servers(interop: InteropServers, first: str) -> None:
    interop.hand_over(first, _write, _read)
