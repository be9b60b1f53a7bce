"""Artifacts through the tracking API: ``/mlflow/artifacts/list``, ``/get-artifact`` and
logged-model directories, for proxied roots (``mlflow-artifacts:/``) and direct roots
(``--no-serve-artifacts --default-artifact-root <path>``), plus where MLflow puts things."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackd.config import Settings

from .test_artifacts import PROXY, Served, served


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def proxy(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    dest = tmp_path_factory.mktemp("tracking-dest")
    with served(Settings(backend_store_uri=database_url, artifacts_destination=str(dest))) as s:
        yield s


@pytest.fixture(scope="module")
def direct(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("direct-root")
    settings = Settings(
        backend_store_uri=database_url,
        serve_artifacts=False,
        default_artifact_root=str(root),
        artifacts_destination=str(tmp_path_factory.mktemp("unused-dest")),
    )
    with served(settings) as s:
        yield s


def _run(s: Served) -> tuple[str, str, str]:
    exp = s.api.new_experiment(unique("exp"))
    run_id = s.api.new_run(exp)
    root = s.api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]["artifact_uri"]
    return exp, run_id, root


def test_locations_proxied(proxy: Served) -> None:
    exp, run_id, root = _run(proxy)
    location = proxy.api.ok("GET", "experiments/get", {"experiment_id": exp})
    assert location["experiment"]["artifact_location"] == f"mlflow-artifacts:/{exp}"
    assert root == f"mlflow-artifacts:/{exp}/{run_id}/artifacts"
    model = proxy.api.ok("POST", "logged-models", {"experiment_id": exp})["model"]["info"]
    assert model["artifact_uri"] == f"mlflow-artifacts:/{exp}/models/{model['model_id']}/artifacts"


def test_locations_direct(direct: Served) -> None:
    exp, run_id, root = _run(direct)
    base = direct.settings.default_artifact_root
    experiment = direct.api.ok("GET", "experiments/get", {"experiment_id": exp})["experiment"]
    assert experiment["artifact_location"] == f"{base}/{exp}"
    assert root == f"{base}/{exp}/{run_id}/artifacts"
    model = direct.api.ok("POST", "logged-models", {"experiment_id": exp})["model"]["info"]
    assert model["artifact_uri"] == f"{base}/{exp}/models/{model['model_id']}/artifacts"


def test_list_run_artifacts_proxied(proxy: Served) -> None:
    exp, run_id, root = _run(proxy)
    for path in ("hello.txt", "sub/a.txt", "sub/deeper/b.txt"):
        assert proxy.put(f"{exp}/{run_id}/artifacts/{path}", b"hi!").status_code == 200
    listing = proxy.api.ok("GET", "artifacts/list", {"run_id": run_id})
    assert listing == {
        "root_uri": root,
        "files": [{"path": "hello.txt", "is_dir": False, "file_size": 3},
                  {"path": "sub", "is_dir": True}],
    }
    # Paths are relative to the run's root, not basenames (unlike the proxy listing).
    sub = proxy.api.ok("GET", "artifacts/list", {"run_uuid": run_id, "path": "sub"})
    assert sub["files"] == [{"path": "sub/a.txt", "is_dir": False, "file_size": 3},
                            {"path": "sub/deeper", "is_dir": True}]
    deeper = proxy.api.ok("GET", "artifacts/list", {"run_id": run_id, "path": "sub/deeper"})
    assert deeper["files"] == [{"path": "sub/deeper/b.txt", "is_dir": False, "file_size": 3}]
    assert proxy.api.ok("GET", "artifacts/list", {"run_id": run_id, "path": "nope"}) == {
        "root_uri": root
    }


def test_list_run_artifacts_direct(direct: Served) -> None:
    _, run_id, root = _run(direct)
    # In a direct root the client writes the files itself.
    (Path(root) / "plots").mkdir(parents=True)
    (Path(root) / "plots" / "loss.png").write_bytes(b"\x89PNG....")
    (Path(root) / "notes.md").write_text("# notes")
    listing = direct.api.ok("GET", "artifacts/list", {"run_id": run_id})
    assert listing == {
        "root_uri": root,
        "files": [{"path": "notes.md", "is_dir": False, "file_size": 7},
                  {"path": "plots", "is_dir": True}],
    }
    plots = direct.api.ok("GET", "artifacts/list", {"run_id": run_id, "path": "plots"})
    assert plots["files"] == [{"path": "plots/loss.png", "is_dir": False, "file_size": 8}]
    got = direct.client.get("/get-artifact", params={"run_id": run_id, "path": "plots/loss.png"})
    assert got.status_code == 200 and got.content == b"\x89PNG...."
    assert got.headers["content-type"] == "image/png"


def test_list_run_artifacts_empty_and_missing_run(proxy: Served) -> None:
    _, run_id, root = _run(proxy)
    assert proxy.api.ok("GET", "artifacts/list", {"run_id": run_id}) == {"root_uri": root}
    status, payload = proxy.api.get("artifacts/list", {"run_id": "f" * 32})
    assert status == 404 and payload["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, payload = proxy.api.get("artifacts/list", {})
    assert status == 400 and payload["error_code"] == "INVALID_PARAMETER_VALUE"


def test_get_artifact(proxy: Served) -> None:
    exp, run_id, _ = _run(proxy)
    proxy.put(f"{exp}/{run_id}/artifacts/d/report.json", b'{"a": 1}')
    got = proxy.client.get("/get-artifact", params={"run_uuid": run_id, "path": "d/report.json"})
    assert got.status_code == 200
    assert got.content == b'{"a": 1}'
    assert got.headers["content-disposition"] == "attachment; filename=report.json"
    assert got.headers["x-content-type-options"] == "nosniff"
    ranged = proxy.client.get("/get-artifact", params={"run_id": run_id, "path": "d/report.json"},
                              headers={"Range": "bytes=1-4"})
    assert ranged.status_code == 206 and ranged.content == b'"a":'
    missing = proxy.client.get("/get-artifact", params={"run_id": run_id, "path": "d/none.txt"})
    assert missing.status_code == 404
    assert missing.json()["message"] == "No such artifact: 'd/none.txt'"
    no_path = proxy.client.get("/get-artifact", params={"run_id": run_id})
    assert no_path.status_code == 400


def test_logged_model_artifacts(proxy: Served) -> None:
    exp, _, _ = _run(proxy)
    model = proxy.api.ok("POST", "logged-models", {"experiment_id": exp})["model"]["info"]
    model_id, root = model["model_id"], model["artifact_uri"]
    for name in ("MLmodel", "model.skops", "extra/notes.txt"):
        proxy.put(f"{exp}/models/{model_id}/artifacts/{name}", b"12345")
    listing = proxy.api.ok("GET", f"logged-models/{model_id}/artifacts/directories")
    assert listing == {
        "root_uri": root,
        "files": [{"path": "MLmodel", "is_dir": False, "file_size": 5},
                  {"path": "extra", "is_dir": True},
                  {"path": "model.skops", "is_dir": False, "file_size": 5}],
    }
    extra = proxy.api.ok("GET", f"logged-models/{model_id}/artifacts/directories",
                         {"artifact_directory_path": "extra"})
    assert extra["files"] == [{"path": "extra/notes.txt", "is_dir": False, "file_size": 5}]
    got = proxy.client.get(f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
                           params={"artifact_file_path": "MLmodel"})
    assert got.status_code == 200 and got.content == b"12345"
    status, payload = proxy.api.get("logged-models/m-00000000000000000000000000000000"
                                    "/artifacts/directories")
    assert status == 404 and payload["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_logged_model_artifacts_direct(direct: Served) -> None:
    exp, _, _ = _run(direct)
    model = direct.api.ok("POST", "logged-models", {"experiment_id": exp})["model"]["info"]
    root = Path(model["artifact_uri"])
    root.mkdir(parents=True)
    (root / "MLmodel").write_text("flavors: {}")
    listing = direct.api.ok("GET", f"logged-models/{model['model_id']}/artifacts/directories")
    assert listing["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 11}]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", PROXY),
        ("GET", f"{PROXY}/1/x.txt"),
        ("PUT", f"{PROXY}/1/x.txt"),
        ("DELETE", f"{PROXY}/1/x.txt"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/create/1/x"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/complete/1/x"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/abort/1/x"),
    ],
)
def test_proxy_refused_without_serve_artifacts(direct: Served, method: str, url: str) -> None:
    response = direct.client.request(method, url, content=b"x" if method == "PUT" else None)
    assert response.status_code == 503
    assert "--no-serve-artifacts" in response.text
    assert not list(Path(direct.settings.artifacts_destination).iterdir())


def test_proxied_run_on_a_server_without_proxy(direct: Served, proxy: Served) -> None:
    """A run created while proxying cannot be listed by a server that no longer proxies."""
    _, run_id, _ = _run(proxy)
    status, payload = direct.api.get("artifacts/list", {"run_id": run_id})
    assert status == 400
    assert "--no-serve-artifacts" in payload["message"]
