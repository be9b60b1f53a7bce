"""``presigned-download-url`` on run roots that live straight in a cloud store (``--no-serve-
artifacts --default-artifact-root s3://...``): S3 and Azure sign, and the URL really fetches the
file from the emulator; a store that cannot sign answers MLflow's 501 ``NOT_IMPLEMENTED``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.asgi import in_process

from trackd.config import Settings

from .conftest import BACKENDS, Backend, backend_params

SIGN = "/api/2.0/mlflow/artifacts/presigned"


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.mark.parametrize("name", backend_params(["s3", "azure", "gcs", "local"]))
def test_run_files_are_signed_where_the_store_can(request: pytest.FixtureRequest,
                                                  tmp_path: Path, name: str) -> None:
    backend: Backend = BACKENDS[name](request, tmp_path)
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                        serve_artifacts=False, default_artifact_root=backend.uri,
                        artifacts_destination=str(tmp_path / "unused"),
                        extra=dict(backend.env))
    with in_process(settings) as running:
        client = running.client

        def post(path: str, body: dict[str, Any]) -> httpx.Response:
            return client.request("POST", path, json=body)

        exp = post("/api/2.0/mlflow/experiments/create", {"name": "signed"}).json()[
            "experiment_id"]
        run = post("/api/2.0/mlflow/runs/create", {"experiment_id": exp}).json()["run"]["info"]
        assert run["artifact_uri"].startswith(backend.uri)
        # The client writes straight into a direct root; so does this test, through the store.
        store = backend.open()
        relative = run["artifact_uri"][len(backend.uri):].strip("/")
        running.portal.call(store.write, f"{relative}/notes/a.txt", _one(b"signed bytes"))

        resp = post(f"{SIGN}-download-url", {"run_id": run["run_id"], "path": "notes/a.txt",
                                             "expiration": 60})
        if name in ("s3", "azure"):
            assert resp.status_code == 200, resp.text
            signed = resp.json()
            fetched = httpx.get(signed["presigned_url"], headers=signed.get("headers") or {})
            assert fetched.content == b"signed bytes"
        else:
            assert resp.status_code == 501, resp.text
            assert resp.json()["error_code"] == "NOT_IMPLEMENTED"
        # Uploads are never signed by trackd yet.
        up = post(f"{SIGN}-upload-url", {"run_id": run["run_id"], "path": "b.txt"})
        assert up.status_code == 501 and up.json()["error_code"] == "NOT_IMPLEMENTED"
