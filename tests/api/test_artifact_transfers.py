"""The web UI's upload into a run and the presigned URL routes on a direct local root
(``--no-serve-artifacts --default-artifact-root <path>``), where MLflow 3.18 answers a valid
presign request with 501 ``NOT_IMPLEMENTED`` (docs/mlflow-captures/ui-artifact-routes.md). The
proxied case is in tests/compat/test_ui_artifact_routes.py, against both servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trackd.config import Settings

from .test_artifacts import Served, served
from .test_artifacts_tracking import _run

UPLOAD = "/ajax-api/2.0/mlflow/upload-artifact"
SIGN = "/api/2.0/mlflow/artifacts/presigned"


@pytest.fixture(scope="module")
def direct(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = Settings(
        backend_store_uri=database_url, serve_artifacts=False,
        default_artifact_root=str(tmp_path_factory.mktemp("transfer-root")),
        artifacts_destination=str(tmp_path_factory.mktemp("unused-dest")))
    with served(settings) as s:
        yield s


def _files(root: str) -> list[str]:
    base = Path(root)
    if not base.exists():
        return []
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def _post(s: Served, url: str, **kw: Any) -> Any:
    return s.client.request("POST", url, **kw)


def _error(resp: Any, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    assert resp.json()["error_code"] == code, resp.text
    return str(resp.json()["message"])


def test_upload_writes_into_the_run_root(direct: Served) -> None:
    _, run_id, root = _run(direct)
    resp = _post(direct, UPLOAD, params={"run_id": run_id, "path": "d/hi.txt"},
                              content=b"hello")
    assert (resp.status_code, resp.content) == (200, b"")
    assert (Path(root) / "d" / "hi.txt").read_bytes() == b"hello"
    bad = "INVALID_PARAMETER_VALUE"
    for params, body, message in [
        ({"path": "a"}, b"x", "Request must specify run_id or run_uuid."),
        ({"run_id": run_id}, b"x", "Request must specify path."),
        ({"run_id": run_id, "path": "e.txt"}, b"", "Request must specify data."),
        ({"run_id": run_id, "path": "../e.txt"}, b"x", "Invalid path"),
        ({"run_id": run_id, "path": "/etc/e.txt"}, b"x", "Invalid path"),
        ({"run_id": run_id, "path": "big"}, b"x" * (10 * 1024 * 1024 + 1),
         "Artifact size is too large. Max size is 10MB."),
    ]:
        assert _error(_post(direct, UPLOAD, params=params, content=body), 400,
                      bad) == message
    assert _error(_post(direct, UPLOAD, params={"run_id": "f" * 32, "path": "a"},
                                     content=b"x"), 404, "RESOURCE_DOES_NOT_EXIST") == \
        f"Run with id={'f' * 32} not found"
    assert _files(root) == [os.path.join("d", "hi.txt")]  # nothing half-written
    assert _post(direct, "/api/2.0/mlflow/upload-artifact",
                              params={"run_id": run_id, "path": "a"},
                              content=b"x").status_code == 404


def test_a_local_root_cannot_presign(direct: Served) -> None:
    exp, run_id, _ = _run(direct)
    model_id = direct.api.ok("POST", "/api/2.0/mlflow/logged-models",
                             {"experiment_id": exp})["model"]["info"]["model_id"]
    todo = "NOT_IMPLEMENTED"
    assert _error(_post(direct, f"{SIGN}-download-url",
                                     json={"run_id": run_id, "path": "a.txt"}), 501, todo) == \
        "Presigned download is not supported for the current artifact repository"
    for owner in ({"run_id": run_id}, {"model_id": model_id}):
        assert _error(_post(direct, f"{SIGN}-upload-url", json={**owner, "path": "a"}),
                      501, todo) == \
            "Presigned upload is not supported for the current artifact repository"
    assert _error(_post(direct, f"{SIGN}-download-url", json={
        "run_id": run_id, "path": "a", "expiration": 604801}), 400,
        "INVALID_PARAMETER_VALUE") == \
        "expiration must be between 1 and 604800 seconds (got 604801)."
    _error(_post(direct, f"{SIGN}-download-url", json={
        "run_id": run_id, "path": "a", "expiration": "soon"}), 400, "INVALID_PARAMETER_VALUE")
    _error(_post(direct, f"{SIGN}-upload-url", json={"model_id": "m-nope", "path": "a"}),
           404, "RESOURCE_DOES_NOT_EXIST")
