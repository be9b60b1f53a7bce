"""Shared bits of the 2.x client scripts (run with the mlflow-skinny 2.x venv, not pytest)."""

from __future__ import annotations

import os
import sys
import uuid

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# Fail fast on a broken server instead of the client's minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")  # an int for mlflow

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402


def connect() -> MlflowClient:
    """Point the fluent API at argv[1] and check that this really is a 2.x client."""
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} TRACKING_URI")
    major = int(mlflow.__version__.split(".")[0])
    assert major == 2, f"expected an mlflow 2.x client, got {mlflow.__version__}"
    mlflow.set_tracking_uri(sys.argv[1])
    return MlflowClient(sys.argv[1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def expect_error(code: str, fn, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Call fn and require an MlflowException with the given error code."""
    from mlflow.exceptions import MlflowException

    try:
        fn(*args, **kwargs)
    except MlflowException as exc:
        assert exc.error_code == code, f"expected {code}, got {exc.error_code}: {exc}"
        return
    raise AssertionError(f"expected {code} from {getattr(fn, '__name__', fn)}, got no error")
