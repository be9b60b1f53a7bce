"""2.x client: the platform example (sklearn log_model / load_model) and run artifacts.

A 2.x client keeps models under the run's artifacts and announces them with ``runs/log-model``
(the server appends them to the run's ``mlflow.log-model.history`` tag).

Usage: python log_model.py TRACKING_URI  (exits non-zero on the first failed check)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import mlflow
import numpy as np
from _common import connect, unique
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score

client = connect()
mlflow.set_experiment(unique("v2-models"))

X, y = load_iris(return_X_y=True)
with mlflow.start_run() as run:
    clf = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    predictions = clf.predict(X)
    mlflow.log_param("n_estimators", 10)
    mlflow.log_metric("accuracy", accuracy_score(y, predictions))
    mlflow.log_metric("f1", f1_score(y, predictions, average="macro"))
    mlflow.sklearn.log_model(clf, "model")
    artifact_uri = mlflow.get_artifact_uri()
run_id = run.info.run_id
assert artifact_uri == client.get_run(run_id).info.artifact_uri, artifact_uri
assert artifact_uri.endswith(f"/{run_id}/artifacts"), artifact_uri

loaded = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
assert np.array_equal(loaded.predict(X), predictions)
pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
assert np.array_equal(np.asarray(pyfunc.predict(X)), predictions)

history = json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"])
assert len(history) == 1, history
assert history[0]["artifact_path"] == "model" and history[0]["run_id"] == run_id, history
assert "sklearn" in history[0]["flavors"], history
model_files = {f.path for f in client.list_artifacts(run_id, "model")}
assert {"model/MLmodel", "model/model.pkl", "model/requirements.txt"} <= model_files, model_files

# Plain artifacts: files, a nested tree, text and dicts; listings at each level; downloads.
with tempfile.TemporaryDirectory() as tmp:
    tree = Path(tmp) / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("bb")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_artifacts(str(tree), artifact_path="tree")
        mlflow.log_artifact(str(tree / "a.txt"))
        mlflow.log_text("text", "notes/n.txt")
        mlflow.log_dict({"k": [1, 2]}, "notes/d.json")
    top = [(f.path, f.is_dir) for f in client.list_artifacts(run_id)]
    assert top == [("a.txt", False), ("model", True), ("notes", True), ("tree", True)], top
    sub = [(f.path, f.file_size) for f in client.list_artifacts(run_id, "tree/sub")]
    assert sub == [("tree/sub/b.txt", 2)], sub
    os.mkdir(os.path.join(tmp, "dl"))
    out = Path(client.download_artifacts(run_id, "tree", os.path.join(tmp, "dl")))
    assert (out / "sub" / "b.txt").read_text() == "bb"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/notes/d.json") == {"k": [1, 2]}

print("OK")
