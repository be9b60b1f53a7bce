"""Long metric histories through the official client."""

from __future__ import annotations

import time

import mlflow
import pytest
import requests
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


def _sampled_steps(tracking_uri: str, run_ids: list[str], max_results: int, **window: int
                   ) -> dict[str, list[int]]:
    """The chart sample the web UI asks for (the client has no method for this route)."""
    params: list[tuple[str, str | int]] = [("run_ids", r) for r in run_ids]
    params += [("metric_key", "loss"), ("max_results", max_results), *window.items()]
    answer = requests.get(
        f"{tracking_uri}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        params=params, timeout=30,
    )
    assert answer.status_code == 200, answer.text
    steps: dict[str, list[int]] = {r: [] for r in run_ids}
    for point in answer.json().get("metrics", []):
        steps[point["run_id"]].append(int(point.get("step", 0)))
    return steps


@pytest.mark.parametrize(
    ("points", "max_results", "expected"),
    [
        # 10 rows into 4 runs of 3, 3, 2, 2: first of each, the last replaced by the very last.
        (10, 4, [0, 3, 6, 9]),
        (7, 3, [0, 3, 6]),
        (5, 1, [4]),
        (3, 10, [0, 1, 2]),
        (101, 10, [0, 11, 21, 31, 41, 51, 61, 71, 81, 100]),
    ],
)
def test_chart_sample_picks_the_same_points_as_mlflow(
    client: MlflowClient, tracking_uri: str, experiment_id: str,
    points: int, max_results: int, expected: list[int],
) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", float(s), 1000 + s, s) for s in range(points)])
    assert _sampled_steps(tracking_uri, [run_id], max_results) == {run_id: expected}


def test_chart_sample_within_a_step_window_and_with_repeated_steps(
    client: MlflowClient, tracking_uri: str, experiment_id: str,
) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    # Steps 0..19, each logged twice (two timestamps): rows, not steps, are sampled.
    client.log_batch(run_id, metrics=[Metric("loss", float(s), 1000 + t, s)
                                      for s in range(20) for t in (0, 1)])
    assert _sampled_steps(tracking_uri, [run_id], 5, start_step=4, end_step=13) == {
        run_id: [4, 6, 8, 10, 13],
    }
