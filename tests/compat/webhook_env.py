"""What a server needs to deliver webhooks to a receiver on this machine, for both targets."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.server import ServerOptions, ServerProcess, start_server

# Shared by every server a test starts, so a secret one stores is readable by the other.
ENCRYPTION_KEY = base64.urlsafe_b64encode(b"trackd-webhook-tests: 32 bytes!!").decode()
WEBHOOK_ENV = {
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    # The receiver listens on 127.0.0.1, which both servers refuse unless told otherwise.
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": ENCRYPTION_KEY,
    # mlflow server caches the webhooks of each event for 60 s: a new one would go unseen.
    "MLFLOW_WEBHOOK_CACHE_TTL": "0",
    # A receiver that answers 500 is retried once (0 s backoff), not for ~7 s.
    "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_WEBHOOK_REQUEST_TIMEOUT": "10",
}


@contextmanager
def webhook_server(target: str, url: str, workdir: Path) -> Iterator[ServerProcess]:
    opts = ServerOptions(backend_store_uri=url, artifacts_destination=workdir / "artifacts",
                         default_artifact_root="mlflow-artifacts:/")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in WEBHOOK_ENV.items():
            mp.setenv(name, value)
        server = start_server(target, opts, workdir)  # the process copies the environment
    try:
        yield server
    finally:
        server.stop()
