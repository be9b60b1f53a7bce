"""Awkward names and values through the official client: characters that need escaping in URLs
and filters, non-ASCII text, and values at MLflow's size limits."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from .conftest import must, unique_name

pytestmark = pytest.mark.compat


def test_experiment_names_with_special_characters(client: MlflowClient) -> None:
    # GET experiments/get-by-name carries the name in the query string.
    name = unique_name("exp with spaces/slash+plus&amp?q=1#frag ü ñ 実験")
    exp_id = client.create_experiment(name)
    assert client.get_experiment(exp_id).name == name
    assert must(client.get_experiment_by_name(name)).experiment_id == exp_id
    found = client.search_experiments(filter_string=f"name = '{name}'")
    assert [e.experiment_id for e in found] == [exp_id]


def test_keys_with_dots_slashes_spaces(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("val/loss", 0.25, 0, 0), Metric("train acc", 0.75, 0, 0)],
        params=[Param("opt.lr", "0.1"), Param("layer-sizes", "[64, 32]")],
        tags=[RunTag("team.name", "vision"), RunTag("note key", "x")],
    )
    data = client.get_run(run_id).data
    assert data.metrics == {"val/loss": 0.25, "train acc": 0.75}
    assert data.params == {"opt.lr": "0.1", "layer-sizes": "[64, 32]"}
    assert data.tags["team.name"] == "vision" and data.tags["note key"] == "x"
    # GET metrics/get-history carries the key in the query string.
    assert [m.value for m in client.get_metric_history(run_id, "val/loss")] == [0.25]

    for flt in (
        "metrics.`val/loss` < 0.5",
        'metrics."train acc" > 0.5',
        "params.`opt.lr` = '0.1'",
        "params.`layer-sizes` LIKE '[64%'",
        "tags.`team.name` = 'vision'",
        "tags.`note key` != 'y'",
    ):
        runs = client.search_runs([experiment_id], filter_string=flt)
        assert [r.info.run_id for r in runs] == [run_id], flt
    ordered = client.search_runs([experiment_id], order_by=["metrics.`val/loss` DESC"])
    assert [r.info.run_id for r in ordered] == [run_id]


def test_unicode_values_and_quotes(client: MlflowClient, experiment_id: str) -> None:
    text = "naïve café — 東京 🚀 it's \"quoted\" \\ back\nslash"
    with mlflow.start_run(run_name="ünïcødé run") as run:
        mlflow.log_param("text", text)
        mlflow.set_tag("text", text)
    fetched = client.get_run(run.info.run_id)
    assert fetched.data.params["text"] == text
    assert fetched.data.tags["text"] == text
    assert fetched.info.run_name == "ünïcødé run"
    runs = client.search_runs([experiment_id], "attributes.run_name = 'ünïcødé run'")
    assert [r.info.run_id for r in runs] == [run.info.run_id]
    # `_` stands in for the single quote, which would need escaping inside the filter string.
    runs = client.search_runs([experiment_id], "tags.text LIKE '%it_s%'")
    assert [r.info.run_id for r in runs] == [run.info.run_id]


def test_values_at_the_size_limits(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    long_param = "p" * 6000  # MLflow's param value limit
    long_tag = "t" * 8000  # MLflow's run tag value limit
    long_key = "k" * 250  # MLflow's key limit
    client.log_param(run_id, long_key, long_param)
    client.set_tag(run_id, "long", long_tag)
    client.log_metric(run_id, long_key, 1.5)
    data = client.get_run(run_id).data
    assert data.params[long_key] == long_param
    assert data.tags["long"] == long_tag
    assert data.metrics[long_key] == 1.5


def test_metric_value_precision(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    values = [0.1 + 0.2, 1e-300, -2.5e300, 123456789.123456789, 0.0, -0.0, 2**53 + 0.0]
    client.log_batch(run_id, metrics=[Metric("v", v, 1000 + i, i) for i, v in enumerate(values)])
    history = sorted(client.get_metric_history(run_id, "v"), key=lambda m: m.step)
    # Doubles survive the JSON round trip and the database bit for bit.
    assert [m.value for m in history] == values
    # Large steps and timestamps are 64-bit integers.
    client.log_metric(run_id, "big", 1.0, timestamp=4_102_444_800_000, step=2**40)
    (point,) = client.get_metric_history(run_id, "big")
    assert (point.step, point.timestamp) == (2**40, 4_102_444_800_000)
