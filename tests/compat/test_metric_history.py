"""Long metric histories through the official client."""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric

pytestmark = pytest.mark.compat

STEPS = 10_500  # more than 10,000 points in one history
BATCH = 1000  # the most metrics one log_batch call may carry


def test_history_of_more_than_10000_steps(client: MlflowClient, experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    base = int(time.time() * 1000)
    for start in range(0, STEPS, BATCH):
        client.log_batch(
            run_id,
            metrics=[
                Metric("loss", 1.0 / (step + 1), base + step, step)
                for step in range(start, min(start + BATCH, STEPS))
            ],
        )
    # A second metric must not leak into the first one's history.
    client.log_batch(run_id, metrics=[Metric("other", 1.0, base, s) for s in range(10)])

    history = client.get_metric_history(run_id, "loss")
    assert len(history) == STEPS
    by_step = sorted(history, key=lambda m: m.step)
    assert [m.step for m in by_step] == list(range(STEPS))
    assert all(m.key == "loss" for m in history)
    assert all(m.value == 1.0 / (m.step + 1) and m.timestamp == base + m.step for m in history)

    latest = client.get_run(run_id).data.metrics
    assert latest["loss"] == 1.0 / STEPS
    assert latest["other"] == 1.0


def test_history_keeps_repeated_steps(client: MlflowClient, experiment_id: str) -> None:
    with mlflow.start_run() as run:
        for value in (3.0, 2.0, 1.0):
            mlflow.log_metric("acc", value, step=0)
        mlflow.log_metric("acc", 0.5, step=7)
    history = client.get_metric_history(run.info.run_id, "acc")
    assert sorted((m.step, m.value) for m in history) == [(0, 1.0), (0, 2.0), (0, 3.0), (7, 0.5)]
    assert client.get_metric_history(run.info.run_id, "missing") == []
