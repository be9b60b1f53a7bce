"""Swap the server, keep the evaluation datasets: a dataset with records, tags and experiment
links stored through trackd is read, searched and merged into by ``mlflow server`` 3.18 on the
same database, and the other way round."""

from __future__ import annotations

import json

import mlflow
import pytest
from mlflow.genai.datasets import create_dataset, get_dataset, search_datasets

from .conftest import unique_name
from .interop import InteropServers

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


def _write(url: str) -> tuple[str, str]:
    mlflow.set_tracking_uri(url)
    experiment_id = mlflow.create_experiment(unique_name("datasets-interop"))
    dataset = create_dataset(name="interop", experiment_id=experiment_id,
                             tags={"origin": "first-server"})
    dataset.merge_records([
        {"inputs": {"q": "a", "n": 1}, "expectations": {"answer": "A"}, "outputs": {"o": 1.5},
         "source": {"source_type": "TRACE", "source_data": {"trace_id": "tr-1"}}},
        {"inputs": {"q": "b", "n": 2}, "expectations": {"answer": "B"}},
    ])
    return experiment_id, dataset.dataset_id


def _read(url: str, experiment_id: str, dataset_id: str) -> None:
    mlflow.set_tracking_uri(url)
    dataset = get_dataset(dataset_id=dataset_id)
    assert dataset.name == "interop" and dataset.tags["origin"] == "first-server"
    assert dataset.experiment_ids == [experiment_id]
    assert json.loads(dataset.profile) == {"num_records": 2}
    rows = {r["inputs"]["q"]: r for r in dataset.to_df().to_dict(orient="records")}
    assert rows["a"]["outputs"] == {"o": 1.5} and rows["a"]["source_id"] == "tr-1"
    assert rows["a"]["source_type"] == "TRACE"
    assert [d.dataset_id for d in search_datasets(experiment_ids=experiment_id,
                                                  filter_string="tags.origin = 'first-server'")
            ] == [dataset_id]
    # The second server finds records the first one stored by their inputs (same hash).
    dataset.merge_records([{"inputs": {"n": 1, "q": "a"}, "expectations": {"more": True}},
                           {"inputs": {"q": "c"}}])
    rows = {r["inputs"]["q"]: r for r in dataset.to_df().to_dict(orient="records")}
    assert set(rows) == {"a", "b", "c"}
    assert rows["a"]["expectations"] == {"answer": "A", "more": True}
    assert json.loads(get_dataset(dataset_id=dataset_id).profile) == {"num_records": 3}


@pytest.mark.parametrize("first", ["trackd", "mlflow"])
def test_datasets_move_between_servers(interop: InteropServers, first: str) -> None:
    interop.hand_over(first, _write, lambda url, w: _read(url, *w))
