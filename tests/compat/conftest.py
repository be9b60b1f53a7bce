"""Fixtures for the compat tier: the official mlflow 3.18 client, in-process, against a live server.

Each test gets the session's server for its database kind and an experiment of its own, so
tests never see each other's runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

import pytest

# The client retries 5xx answers 7 times with exponential back-off (minutes); a broken server
# should fail a test in seconds, and a couple of quick retries still absorb a transient hiccup.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")  # an int for mlflow
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from support.server import ServerProcess  # noqa: E402

if TYPE_CHECKING:
    from .interop import InteropServers

T = TypeVar("T")


@pytest.fixture
def server(request: pytest.FixtureRequest, live_server: ServerProcess) -> ServerProcess:
    """The session server, checked alive; failures get its log from this point on."""
    if not live_server.alive():
        pytest.fail(
            f"{live_server.target} server died (exit code {live_server.proc.returncode}); "
            f"its log:\n{live_server.log_text()}"
        )
    request.node._trackd_server = (live_server, live_server.log_size())
    return live_server


@pytest.fixture
def tracking_uri(server: ServerProcess) -> Iterator[str]:
    """Point the fluent API at the server; leave no active run or experiment behind."""
    mlflow.set_tracking_uri(server.url)
    try:
        yield server.url
    finally:
        reset_fluent_state()


def reset_fluent_state() -> None:
    """End runs left active and forget the fluent API's tracking URI and experiment."""
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None restores the default
    # The fluent API remembers the last experiment (in a module global and in the environment);
    # an id from another server's database must not leak into the next test.
    mlflow.tracking.fluent._active_experiment_id = None
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    os.environ.pop("MLFLOW_EXPERIMENT_NAME", None)


def must(value: T | None) -> T:
    """The client types many getters as optional; a test that expects a value says so here."""
    assert value is not None
    return value


@pytest.fixture
def client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def experiment_id(request: pytest.FixtureRequest, client: MlflowClient) -> str:
    """A fresh experiment, also made the fluent API's current experiment."""
    exp_id = client.create_experiment(unique_name(request.node.name[:60]))
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


@pytest.fixture(scope="session")
def interop_pair(db_kind: str, compat_target: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[InteropServers]:
    """A database of `db_kind` with a trackd and an mlflow server on it (compat/interop.py)."""
    from .interop import interop_servers

    with interop_servers(db_kind, compat_target,
                         tmp_path_factory.mktemp(f"interop-{db_kind}")) as pair:
        yield pair


@pytest.fixture
def interop(request: pytest.FixtureRequest, interop_pair: InteropServers) -> InteropServers:
    """The kind's interop servers, for one test: `interop.hand_over(first, write, read)`."""
    # A failure report gets what both processes logged during the test.
    request.node._trackd_server = [(s, s.log_size()) for s in interop_pair.servers.values()]
    return interop_pair
