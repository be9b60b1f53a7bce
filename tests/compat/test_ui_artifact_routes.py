"""The artifact routes only MLflow's web UI and direct-to-cloud clients call: the UI's upload
into a run and the presigned URL routes. The official client has no method for them, so they
are driven with its own REST helper (``http_request``), against trackd and (with
``--compat-target mlflow``) ``mlflow server`` 3.18, which both serve artifacts through the
proxy here (``mlflow-artifacts:/`` roots)."""

from __future__ import annotations

from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request

pytestmark = [pytest.mark.compat]


def _call(tracking_uri: str, method: str, endpoint: str, **kw: Any) -> Any:
    return http_request(get_default_host_creds(tracking_uri), endpoint, method, **kw)


def _error(resp: Any, status: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" or status != 400, body
    return str(body["message"])


def test_the_ui_uploads_a_file_into_a_run(tracking_uri: str, client: MlflowClient,
                                          experiment_id: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    url = "/ajax-api/2.0/mlflow/upload-artifact"
    resp = _call(tracking_uri, "POST", url, params={"run_id": run_id, "path": "dir/hi.txt"},
                 data=b"hello")
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["content-type"].startswith("application/json")
    _call(tracking_uri, "POST", url, params={"run_uuid": run_id, "path": "top.txt"}, data=b"x")
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [
        ("dir", True), ("top.txt", False)]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/dir/hi.txt") == "hello"

    for params, data, message in [
        ({"path": "a"}, b"x", "Request must specify run_id or run_uuid."),
        ({"run_id": run_id}, b"x", "Request must specify path."),
        ({"run_id": run_id, "path": "e.txt"}, b"", "Request must specify data."),
        ({"run_id": run_id, "path": "../e.txt"}, b"x", "Invalid path"),
        ({"run_id": run_id, "path": "big.bin"}, b"x" * (10 * 1024 * 1024 + 1),
         "Artifact size is too large. Max size is 10MB."),
    ]:
        assert _error(_call(tracking_uri, "POST", url, params=params, data=data),
                      400) == message
    missing = _call(tracking_uri, "POST", url, params={"run_id": "0" * 32, "path": "a"},
                    data=b"x")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # Only the web UI's prefix has it.
    assert _call(tracking_uri, "POST", "/api/2.0/mlflow/upload-artifact",
                 params={"run_id": run_id, "path": "a"}, data=b"x").status_code == 404
    assert [f.path for f in client.list_artifacts(run_id)] == ["dir", "top.txt"]


@pytest.mark.parametrize("prefix", ["/api/2.0", "/ajax-api/2.0"])
def test_presigned_urls_refuse_proxied_roots(tracking_uri: str, client: MlflowClient,
                                             experiment_id: str, prefix: str) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    down = f"{prefix}/mlflow/artifacts/presigned-download-url"
    up = f"{prefix}/mlflow/artifacts/presigned-upload-url"
    assert "(artifact URI scheme: mlflow-artifacts)" in _error(
        _call(tracking_uri, "POST", down, json={"run_id": run_id, "path": "a.txt"}), 400)
    assert "(artifact URI scheme: mlflow-artifacts)" in _error(
        _call(tracking_uri, "POST", up, json={"run_id": run_id, "path": "a.txt"}), 400)
    for endpoint, body, message in [
        (down, {"run_id": run_id}, "Missing value for required parameter 'path'"),
        (down, {"path": "a"}, "Missing value for required parameter 'run_id'"),
        (down, {"run_id": run_id, "path": "a", "expiration": 0},
         "expiration must be between 1 and 604800 seconds (got 0)."),
        (down, {"run_id": run_id, "path": "../x"}, "Invalid path"),
        (up, {"path": "a"}, "Exactly one of run_id and model_id must be provided."),
        (up, {"run_id": run_id, "model_id": "m-1", "path": "a"},
         "Exactly one of run_id and model_id must be provided."),
        (up, {"run_id": run_id}, "Missing value for required parameter 'path'"),
    ]:
        assert message in _error(_call(tracking_uri, "POST", endpoint, json=body), 400)
    for endpoint, body in [(down, {"run_id": "0" * 32, "path": "a"}),
                           (up, {"model_id": "m-nope", "path": "a"})]:
        resp = _call(tracking_uri, "POST", endpoint, json=body)
        assert resp.status_code == 404 and resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
