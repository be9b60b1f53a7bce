"""`trackd gc`: deleted runs and experiments go for good, with rows and artifacts; nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from trackd.app import create_app
from trackd.cli import main
from trackd.config import Settings


class World:
    """A trackd app with a little history, built through the REST API."""

    def __init__(self, url: str, artifacts: Path, portal: Any) -> None:
        self.url, self.artifacts, self.portal = url, artifacts, portal
        self.app = create_app(Settings(backend_store_uri=url, artifacts_destination=str(artifacts)))
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                      base_url="http://trackd")

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        url = path if path.startswith("/") else f"/api/2.0/mlflow/{path}"
        if body is not None:
            kw["json"] = body
        resp = self.portal.call(lambda: self.http.request(method, url, **kw))
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json() if resp.content else {}

    def experiment(self, name: str) -> str:
        return str(self.call("POST", "experiments/create", {"name": name})["experiment_id"])

    def run(self, experiment_id: str) -> str:
        run_id = self.call("POST", "runs/create",
                           {"experiment_id": experiment_id})["run"]["info"]["run_id"]
        self.call("POST", "runs/log-batch", {
            "run_id": run_id,
            "metrics": [{"key": "m", "value": float(i), "timestamp": i, "step": i}
                        for i in range(20)],
            "params": [{"key": "p", "value": "1"}],
            "tags": [{"key": "t", "value": "v"}],
        })
        self.call("POST", "runs/log-inputs", {"run_id": run_id, "datasets": [{
            "dataset": {"name": "d", "digest": "abc", "source_type": "local",
                        "source": "{}"}, "tags": [{"key": "mlflow.data.context",
                                                   "value": "train"}]}]})
        path = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/a.txt"
        self.call("PUT", path, content=b"data")
        return str(run_id)

    def rows(self, query: str, **params: Any) -> list[Any]:
        engine = sa.create_engine(self.url)  # the test's own look, outside the server's pools
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(query), params))
        finally:
            engine.dispose()

    def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        return int(self.rows(f"SELECT COUNT(*) FROM {table} WHERE {where}", **params)[0][0])

    def close(self) -> None:
        self.portal.call(self.http.aclose)
        self.app.services.db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    from dbs import fresh_database

    with fresh_database(request.param, tmp_path) as url, \
            anyio.from_thread.start_blocking_portal() as portal:
        made = World(url, tmp_path / "artifacts", portal)
        try:
            yield made
        finally:
            made.close()


def gc(world: World, *args: str) -> Any:
    result = CliRunner().invoke(main, ["gc", "--backend-store-uri", world.url,
                                       "--artifacts-destination", str(world.artifacts),
                                       "--batch-size", "2", *args])
    return result


def test_gc_removes_deleted_runs_and_experiments(world: World) -> None:
    keep_exp = world.experiment("keep")
    kept_run, dead_run = world.run(keep_exp), world.run(keep_exp)
    doomed_exp = world.experiment("doomed")
    doomed_runs = [world.run(doomed_exp) for _ in range(3)]
    model = world.call("POST", "logged-models", {"experiment_id": doomed_exp, "name": "lm"})
    model_id = model["model"]["info"]["model_id"]
    world.call("POST", "runs/delete", {"run_id": dead_run})
    world.call("POST", "experiments/delete", {"experiment_id": doomed_exp})

    # Too recent for --older-than: nothing happens.
    result = gc(world, "--older-than", "1d")
    assert result.exit_code == 0, result.output
    assert world.count("runs") == 5

    time.sleep(0.01)
    result = gc(world)
    assert result.exit_code == 0, result.output
    assert f"Run with ID {dead_run} has been permanently deleted." in result.output
    remaining = {r for (r,) in world.rows("SELECT run_uuid FROM runs")}
    assert remaining == {kept_run}
    for table in ("metrics", "latest_metrics", "params", "tags"):
        assert world.count(table, "run_uuid <> :r", r=kept_run) == 0, table
    assert world.count("inputs", "destination_id <> :r", r=kept_run) == 0
    assert world.count("experiments", "experiment_id = :e", e=int(doomed_exp)) == 0
    assert world.count("logged_models", "model_id = :m", m=model_id) == 0
    assert world.count("datasets", "experiment_id = :e", e=int(doomed_exp)) == 0
    art = world.artifacts
    assert (art / keep_exp / kept_run / "artifacts" / "a.txt").read_bytes() == b"data"
    assert not (art / keep_exp / dead_run).exists()
    assert not any((art / doomed_exp / r).exists() for r in doomed_runs)
    # The name of a permanently deleted experiment can be used again.
    world.experiment("doomed")
    # Rerunning is harmless.
    assert gc(world).exit_code == 0


def test_gc_explicit_ids_must_be_deleted(world: World) -> None:
    exp = world.experiment("e")
    live, dead = world.run(exp), world.run(exp)
    world.call("POST", "runs/delete", {"run_id": dead})
    result = gc(world, "--run-ids", f"{live},{dead}")
    assert result.exit_code != 0 and "not in `deleted` lifecycle stage" in result.output
    assert world.count("runs") == 2  # nothing was deleted
    result = gc(world, "--experiment-ids", exp)
    assert result.exit_code != 0 and "not in the deleted lifecycle stage" in result.output
    result = gc(world, "--run-ids", dead)
    assert result.exit_code == 0, result.output
    assert world.count("runs") == 1


def test_gc_rejects_bad_duration(world: World) -> None:
    result = gc(world, "--older-than", "soon")
    assert result.exit_code != 0 and "Could not parse" in result.output
