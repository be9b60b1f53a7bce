"""The 2.x client tier: scripts in client2x/ run under an mlflow-skinny 2.x interpreter against the
same live server. Each script asserts by itself and exits non-zero on the first failed check."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.server import ServerProcess

pytestmark = pytest.mark.compat

SCRIPTS = Path(__file__).resolve().parent / "client2x"
REPO = Path(__file__).resolve().parents[2]


def mlflow2_python() -> Path:
    """The 2.x interpreter: TRACKD_MLFLOW2_PYTHON, else the venv scripts/test makes."""
    configured = os.environ.get("TRACKD_MLFLOW2_PYTHON")
    return Path(configured) if configured else REPO / ".venv-mlflow2" / "bin" / "python"


@pytest.fixture(scope="session")
def python2x() -> Path:
    python = mlflow2_python()
    if not python.exists():
        message = f"no mlflow 2.x interpreter at {python}; `bash scripts/test` creates it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.mark.parametrize("script", ["workflow.py", "search.py", "tracing.py"])
def test_client_2x_script(server: ServerProcess, python2x: Path, script: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.pop("PYTHONPATH", None)  # the 2.x venv must not see this venv's mlflow 3
    try:
        done = subprocess.run(
            [str(python2x), str(SCRIPTS / script), server.url],
            cwd=SCRIPTS,
            env=env,
            capture_output=True,
            text=True,
            timeout=480,  # below pytest-timeout's 600 s, so that the script's output is shown
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} under the 2.x client timed out\n{_tail(exc.stdout, exc.stderr)}")
    if done.returncode != 0:
        pytest.fail(
            f"{script} under the 2.x client exited {done.returncode}\n"
            f"{_tail(done.stdout, done.stderr)}"
        )
    assert done.stdout.strip().endswith("OK"), done.stdout


def _tail(stdout: str | bytes | None, stderr: str | bytes | None) -> str:
    def text(out: str | bytes | None, limit: int) -> str:
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        return (out or "")[-limit:]

    return f"--- stdout ---\n{text(stdout, 5000)}\n--- stderr ---\n{text(stderr, 10000)}"
