"""Where MLflow puts things: experiment, run and logged-model artifact locations."""

from __future__ import annotations

import functools

from trackd.artifacts.paths import check_location

# The same few roots (each experiment's location) are joined onto for every run and every
# trace: checking one parses it, which cost more than the rest of a trace's tags. A root that
# fails the check raises every time (lru_cache keeps only results).
_checked_root = functools.lru_cache(maxsize=1024)(check_location)


def join_uri(root: str, *parts: str) -> str:
    """Append path segments to a URI or path the way MLflow does for artifact locations.

    ``mlflow-artifacts:/`` + ``5`` is ``mlflow-artifacts:/5``; ``s3://b/p`` + ``5`` is
    ``s3://b/p/5``; ``/data/art/`` + ``5`` is ``/data/art/5``. The root is checked first
    (:func:`check_location`): appending to a URI that has a query or fragment would not extend
    its path, so such a root is refused (400) rather than extended.
    """
    out = _checked_root(root)
    for part in parts:
        part = part.strip("/")
        if not part:
            continue
        out = out + part if out.endswith("/") else out + "/" + part
    return out


def experiment_location(artifact_root: str, experiment_id: int) -> str:
    return join_uri(artifact_root, str(experiment_id))


def run_artifact_uri(experiment_location: str, run_id: str) -> str:
    return join_uri(experiment_location, run_id, "artifacts")


def logged_model_artifact_uri(experiment_location: str, model_id: str) -> str:
    return join_uri(experiment_location, "models", model_id, "artifacts")
