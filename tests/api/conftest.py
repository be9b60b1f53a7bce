"""In-process API tests: the real app over real databases, called through Starlette's client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.asgi import SyncClient, in_process

from trackd.config import Settings


class Api:
    """Thin helper: ``api.post("runs/create", {...})`` → (status, json)."""

    def __init__(self, client: SyncClient) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        url = path if path.startswith("/") else f"/api/2.0/mlflow/{path}"
        if method == "GET":
            response = self.client.get(url, params=body, **kw)
        else:
            response = self.client.request(method, url, json=body, **kw)
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        return response.status_code, payload

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("POST", path, body, **kw)

    def get(self, path: str, params: Any = None) -> tuple[int, Any]:
        return self.call("GET", path, params)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = self.call(method, path, body)
        assert status == 200, (path, status, payload)
        return payload

    def new_experiment(self, name: str) -> str:
        return str(self.ok("POST", "experiments/create", {"name": name})["experiment_id"])

    def new_run(self, experiment_id: str, **fields: Any) -> str:
        run = self.ok("POST", "runs/create", {"experiment_id": experiment_id, **fields})["run"]
        return str(run["info"]["run_id"])


@pytest.fixture(scope="session")
def api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    artifacts: Path = tmp_path_factory.mktemp("api-artifacts")
    settings = Settings(backend_store_uri=database_url, artifacts_destination=str(artifacts))
    with in_process(settings) as served:
        yield Api(served.client)
