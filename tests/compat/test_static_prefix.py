"""A server behind a path prefix (`--static-prefix`), as data platforms deploy it: the tracking
URI ends in the prefix and every call, /health included, goes under it."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from support.db import enter_database
from support.server import ServerOptions, ServerProcess, running_server

from .conftest import must, reset_fluent_state, unique_name

pytestmark = pytest.mark.compat

PREFIX = "/app/p1/5000"


# Session scope (cached per database kind): pytest interleaves modules when it groups tests by
# parameter, and a module-scoped fixture would then be built more than once.
@pytest.fixture(scope="session")
def prefixed_server(
    compat_target: str, db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp(f"prefix-{compat_target}-{db_kind}")
    with enter_database(db_kind, workdir) as url:
        opts = ServerOptions(
            backend_store_uri=url,
            artifacts_destination=workdir / "artifacts",
            static_prefix=PREFIX,
            serve_artifacts=True,
        )
        with running_server(compat_target, opts, workdir) as server:
            yield server


@pytest.fixture
def prefixed(request: pytest.FixtureRequest, prefixed_server: ServerProcess) -> Iterator[str]:
    request.node._trackd_server = (prefixed_server, prefixed_server.log_size())
    mlflow.set_tracking_uri(prefixed_server.url)
    try:
        yield prefixed_server.url
    finally:
        reset_fluent_state()


def test_health_under_prefix(prefixed_server: ServerProcess) -> None:
    assert prefixed_server.url.endswith(PREFIX)
    with urllib.request.urlopen(prefixed_server.url + "/health", timeout=10) as resp:
        assert resp.status == 200
        assert resp.read().decode().strip() == "OK"


def test_workflow_under_prefix(prefixed: str) -> None:
    client = MlflowClient(prefixed)
    exp = mlflow.set_experiment(unique_name("prefixed"))
    with mlflow.start_run(run_name="under-prefix") as run:
        mlflow.log_params({"a": "1", "b": "2"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.set_tag("where", "prefix")

    fetched = client.get_run(run.info.run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "under-prefix"
    assert fetched.data.params == {"a": "1", "b": "2"}
    assert fetched.data.metrics["loss"] == 0.2
    assert fetched.data.tags["where"] == "prefix"
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 5

    found = client.search_runs([exp.experiment_id], "params.a = '1'")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    assert must(client.get_experiment_by_name(exp.name)).experiment_id == exp.experiment_id


def test_artifacts_under_prefix(prefixed: str) -> None:
    mlflow.set_experiment(unique_name("prefixed-artifacts"))
    with mlflow.start_run() as run:
        mlflow.log_text("hello through the prefix", "notes/hello.txt")
    listed = MlflowClient(prefixed).list_artifacts(run.info.run_id, "notes")
    assert [f.path for f in listed] == ["notes/hello.txt"]
    text = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes/hello.txt")
    assert text == "hello through the prefix"
