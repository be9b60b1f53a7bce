"""Real runs for the browser tests, logged through the official mlflow client.

    python tests/web/seed.py http://127.0.0.1:5000/app/p1/5000

An experiment of finished, failed and running runs with params, metric histories, tags, a
markdown description, dataset inputs and artifacts of every previewable kind; one run with a
100,000-step metric; a logged sklearn model registered as two versions with an alias.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

EXPERIMENT = "demo-classifier"
LONG_EXPERIMENT = "long-training"
MODEL_NAME = "demo-model"
LONG_STEPS = 100_000
NOTE = (
    "# Baseline sweep\n\nTrying **learning rates** and optimizers.\n\n"
    "- see [the docs](https://example.org/docs)\n"
    "- <script>window.__pwned = true</script> must show as text\n"
    "- [bad link](javascript:window.__pwned=true)\n\n"
    "| lr | note |\n|---|---|\n| 0.1 | too high |\n"
)


@dataclass
class Seeded:
    experiment_id: str = ""
    long_experiment_id: str = ""
    run_ids: list[str] = field(default_factory=list)
    run_names: list[str] = field(default_factory=list)
    artifact_run_id: str = ""
    running_run_id: str = ""
    long_run_id: str = ""
    model_name: str = MODEL_NAME


def png_bytes(width: int = 64, height: int = 40) -> bytes:
    """A small gradient PNG, written by hand so that no imaging library is needed."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (x * 4 % 256, y * 6 % 256, 180))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _write_artifacts(folder: Path, lr: float) -> None:
    (folder / "config").mkdir()
    (folder / "config" / "train.yaml").write_text(
        f"model: tree\nlearning_rate: {lr}\nlayers:\n  - 64\n  - 32\n")
    (folder / "metrics.json").write_text(json.dumps({"accuracy": 0.91, "f1": [0.9, 0.8]}))
    (folder / "predictions.csv").write_text(
        "id,label,score\n" + "".join(f"{i},{i % 2},{0.5 + i / 100:.2f}\n" for i in range(30)))
    (folder / "notes.txt").write_text("Plain text notes.\n<b>not bold</b>\n")
    (folder / "plot.png").write_bytes(png_bytes())


def seed(tracking_uri: str, *, long_steps: int = LONG_STEPS) -> Seeded:
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    out = Seeded()
    out.experiment_id = client.create_experiment(EXPERIMENT, tags={"team": "vision"})
    now = int(time.time() * 1000)
    optimizers = ("adam", "sgd", "rmsprop")
    for i in range(12):
        lr = (0.1, 0.03, 0.01, 0.003)[i % 4]
        name = f"run-{i:02d}-{optimizers[i % 3]}"
        run = client.create_run(out.experiment_id, run_name=name,
                                start_time=now - (12 - i) * 600_000,
                                tags={"team": "vision" if i % 2 else "nlp", "stage": "sweep"})
        rid = run.info.run_id
        out.run_ids.append(rid)
        out.run_names.append(name)
        params = {"lr": str(lr), "optimizer": optimizers[i % 3],
                  "batch_size": str(32 * (1 + i % 2)),
                  "model": "tree" if i < 6 else "mlp", "layers": str(2 + i % 3)}
        points = []
        for step in range(0, 200):
            loss = 2.0 * math.exp(-step * lr / 2) + 0.05 * (i % 5) + 0.02 * math.sin(step / 3)
            points.append(Metric("loss", loss, now + step * 1000, step))
            points.append(Metric("val_loss", loss * 1.1 + 0.01, now + step * 1000, step))
            points.append(Metric("accuracy", 1 - loss / 2.5, now + step * 1000, step))
        client.log_batch(rid, metrics=points,
                         params=[mlflow.entities.Param(k, v) for k, v in params.items()])
        status = "FAILED" if i == 3 else "KILLED" if i == 7 else "FINISHED"
        client.set_terminated(rid, status, end_time=now - (12 - i) * 600_000 + 95_000 + i * 1000)
    out.artifact_run_id = out.run_ids[0]
    client.set_tag(out.artifact_run_id, "mlflow.note.content", NOTE)
    with tempfile.TemporaryDirectory() as tmp:
        _write_artifacts(Path(tmp), 0.1)
        client.log_artifacts(out.artifact_run_id, tmp)
    _log_dataset_and_model(out)
    running = client.create_run(out.experiment_id, run_name="live-run", tags={"team": "nlp"})
    out.running_run_id = running.info.run_id
    client.log_param(out.running_run_id, "lr", "0.01")
    for step in range(5):
        client.log_metric(out.running_run_id, "loss", 1.0 / (step + 1), step=step)
    out.run_ids.append(out.running_run_id)
    out.run_names.append("live-run")
    out.long_experiment_id = client.create_experiment(LONG_EXPERIMENT)
    out.long_run_id = log_long_metric(tracking_uri, out.long_experiment_id, long_steps)
    return out


def seed_bulk(tracking_uri: str, name: str, runs: int) -> str:
    """An experiment of ``runs`` small runs, written through the REST API (fast)."""
    import httpx

    api = tracking_uri + "/api/2.0/mlflow/"
    with httpx.Client(timeout=60) as http:
        made = http.post(api + "experiments/create", json={"name": name})
        made.raise_for_status()
        experiment_id = made.json()["experiment_id"]
        start = int(time.time() * 1000) - runs * 1000
        for i in range(runs):
            run = http.post(api + "runs/create", json={
                "experiment_id": experiment_id, "run_name": f"bulk-{i:03d}",
                "start_time": start + i * 1000})
            run.raise_for_status()
            rid = run.json()["run"]["info"]["run_id"]
            http.post(api + "runs/log-batch", json={
                "run_id": rid,
                "params": [{"key": "seed", "value": str(i)},
                           {"key": "parity", "value": str(i % 2)}],
                "metrics": [{"key": "score", "value": i / runs, "timestamp": start, "step": 0}],
            }).raise_for_status()
            done = {"run_id": rid, "status": "FINISHED", "end_time": start + i * 1000 + 500}
            http.post(api + "runs/update", json=done).raise_for_status()
    return str(experiment_id)


def log_long_metric(tracking_uri: str, experiment_id: str, steps: int) -> str:
    """A finished run whose ``train_loss`` has ``steps`` points, logged 1,000 per request."""
    import httpx

    api = tracking_uri + "/api/2.0/mlflow/"
    base = int(time.time() * 1000) - steps * 10
    with httpx.Client(timeout=120) as http:
        made = http.post(api + "runs/create", json={
            "experiment_id": experiment_id, "run_name": "long-metric", "start_time": base})
        made.raise_for_status()
        rid = made.json()["run"]["info"]["run_id"]
        for start in range(0, steps, 1000):
            batch = [{"key": "train_loss", "value": 1 / (1 + s / 5000) + 0.05 * math.sin(s / 50),
                      "timestamp": base + s * 10, "step": s}
                     for s in range(start, min(steps, start + 1000))]
            body = {"run_id": rid, "metrics": batch}
            http.post(api + "runs/log-batch", json=body).raise_for_status()
        http.post(api + "runs/update", json={"run_id": rid, "status": "FINISHED",
                                             "end_time": base + steps * 10}).raise_for_status()
    return str(rid)


def _log_dataset_and_model(out: Seeded) -> None:
    import mlflow
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 20).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": y})
    with mlflow.start_run(run_id=out.artifact_run_id):
        mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
        model = LogisticRegression().fit(x, y)
        for _ in range(2):
            # Named requirements: inferring them runs the model in a subprocess (minutes).
            mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL_NAME,
                                     input_example=x[:2], pip_requirements=["scikit-learn"])
    client = mlflow.tracking.MlflowClient()
    client.set_registered_model_alias(MODEL_NAME, "champion", "1")
    client.set_registered_model_tag(MODEL_NAME, "owner", "vision-team")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated, still served
        client.transition_model_version_stage(MODEL_NAME, "2", "Staging")
    # log_model's fluent run ended the run: mark it FINISHED with the rest.
    client.set_terminated(out.artifact_run_id, "FINISHED")


if __name__ == "__main__":
    seeded = seed(sys.argv[1], long_steps=int(sys.argv[2]) if len(sys.argv) > 2 else LONG_STEPS)
    print(json.dumps(seeded.__dict__, indent=2))
