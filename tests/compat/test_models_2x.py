"""The 2.x client's model flow (``runs/log-model``, models under the run's artifacts) and its
artifact calls, run by client2x/log_model.py under the mlflow-skinny 2.x interpreter against a
proxied root (the session server) and a direct root."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.server import ServerProcess

from .test_artifacts import direct_server, server  # noqa: F401
from .test_client_2x import SCRIPTS, mlflow2_python

pytestmark = pytest.mark.compat


@pytest.fixture(scope="session")
def python2x_sklearn() -> Path:
    """The 2.x interpreter, with what ``mlflow.sklearn`` 2.x needs (scikit-learn, pandas)."""
    python = mlflow2_python()
    problem = None
    if not python.exists():
        problem = f"no mlflow 2.x interpreter at {python}; `bash scripts/test` creates it"
    else:
        probe = subprocess.run([str(python), "-c", "import mlflow, sklearn, pandas"],
                               capture_output=True, text=True, timeout=120)
        if probe.returncode != 0:
            problem = f"{python} lacks the sklearn flavor's needs: {probe.stderr[-500:]}"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return python


def test_log_model_with_2x_client(
    server: ServerProcess, python2x_sklearn: Path  # noqa: F811
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.pop("PYTHONPATH", None)  # the 2.x venv must not see this venv's mlflow 3
    done = subprocess.run(
        [str(python2x_sklearn), "-W", "ignore", str(SCRIPTS / "log_model.py"), server.url],
        cwd=SCRIPTS, env=env, capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(
            f"log_model.py under the 2.x client exited {done.returncode}\n"
            f"--- stdout ---\n{done.stdout[-5000:]}\n--- stderr ---\n{done.stderr[-10000:]}"
        )
    assert done.stdout.strip().endswith("OK"), done.stdout
