"""2.x client: experiment, run lifecycle, params/metrics/tags, history, errors.

Usage: python workflow.py TRACKING_URI  (exits non-zero on the first failed check)
"""

from __future__ import annotations

import math

import mlflow
from _common import connect, expect_error, unique
from mlflow.entities import Metric, Param, RunTag
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

client = connect()

# Experiments
name = unique("v2-exp")
exp_id = client.create_experiment(name, tags={"client": "2.x"})
exp = client.get_experiment(exp_id)
assert exp.name == name and exp.lifecycle_stage == "active", exp
assert exp.tags == {"client": "2.x"}, exp.tags
assert client.get_experiment_by_name(name).experiment_id == exp_id
assert client.get_experiment_by_name(unique("missing")) is None
expect_error("RESOURCE_ALREADY_EXISTS", client.create_experiment, name)
expect_error("RESOURCE_DOES_NOT_EXIST", client.get_experiment, "987654321")
client.set_experiment_tag(exp_id, "stage", "dev")
assert client.get_experiment(exp_id).tags["stage"] == "dev"
found = client.search_experiments(filter_string=f"name = '{name}'")
assert [e.experiment_id for e in found] == [exp_id], found

# A small real training loop, logged the way 2.x users do it.
X, y = make_classification(n_samples=200, n_features=6, random_state=0)
mlflow.set_experiment(experiment_id=exp_id)
with mlflow.start_run(run_name="v2-train") as run:
    params = {"C": 0.5, "max_iter": 200}
    mlflow.log_params(params)
    model = LogisticRegression(**params).fit(X, y)
    for step in range(20):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"train_acc": float(model.score(X, y)), "nan_metric": math.nan})
    mlflow.set_tags({"framework": "sklearn", "client": "2.x"})
    with mlflow.start_run(run_name="v2-child", nested=True) as child:
        mlflow.log_param("fold", 1)
run_id = run.info.run_id

got = client.get_run(run_id)
assert got.info.status == "FINISHED", got.info
assert got.info.run_name == "v2-train", got.info
assert got.data.params == {"C": "0.5", "max_iter": "200"}, got.data.params
assert got.data.metrics["loss"] == 1.0 / 20, got.data.metrics
assert got.data.metrics["train_acc"] > 0.5, got.data.metrics
assert math.isnan(got.data.metrics["nan_metric"]), got.data.metrics
assert got.data.tags["framework"] == "sklearn", got.data.tags
assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == run_id

history = client.get_metric_history(run_id, "loss")
assert sorted((m.step, m.value) for m in history) == [(s, 1.0 / (s + 1)) for s in range(20)]

# log_batch, immutable params, tags
other = client.create_run(exp_id, run_name="v2-batch")
client.log_batch(
    other.info.run_id,
    metrics=[Metric("m", float(i), 1_700_000_000_000 + i, i) for i in range(100)],
    params=[Param("p", "x")],
    tags=[RunTag("t", "1")],
)
expect_error("INVALID_PARAMETER_VALUE", client.log_param, other.info.run_id, "p", "changed")
client.set_tag(other.info.run_id, "t", "2")
client.delete_tag(other.info.run_id, "t")
assert "t" not in client.get_run(other.info.run_id).data.tags
assert len(client.get_metric_history(other.info.run_id, "m")) == 100
client.set_terminated(other.info.run_id, status="FAILED")
assert client.get_run(other.info.run_id).info.status == "FAILED"

# Rename, delete and restore
client.update_run(other.info.run_id, name="v2-renamed")
assert client.get_run(other.info.run_id).info.run_name == "v2-renamed"
client.delete_run(other.info.run_id)
assert client.get_run(other.info.run_id).info.lifecycle_stage == "deleted"
expect_error("INVALID_PARAMETER_VALUE", client.log_metric, other.info.run_id, "m", 1.0)
client.restore_run(other.info.run_id)
assert client.get_run(other.info.run_id).info.lifecycle_stage == "active"

print("2.x workflow OK")
