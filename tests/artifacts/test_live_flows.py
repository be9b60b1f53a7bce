"""The official MLflow client against a live ``trackd server`` whose ``--artifacts-destination``
is each backend in turn: nested artifacts, a scikit-learn model, and large files through the
proxy's multipart upload and presigned download protocols (or their fallback where a backend
does not offer them).
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# As in the compat tier: a broken server should fail a test in seconds, not minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from support.server import ServerOptions, ServerProcess, start_server  # noqa: E402

from .conftest import BACKENDS, Backend, backend_params  # noqa: E402

pytestmark = pytest.mark.compat

# hdfs-pyarrow is the hdfs code on a local filesystem, injected in-process: no server can use it.
LIVE_BACKENDS = [name for name in BACKENDS if name != "hdfs-pyarrow"]
MIB = 1024 * 1024


@pytest.fixture(scope="module", params=backend_params(LIVE_BACKENDS))
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Backend, ServerProcess]]:
    workdir = tmp_path_factory.mktemp(f"live-{request.param}")
    backend = BACKENDS[request.param](request, workdir)
    opts = ServerOptions(
        backend_store_uri=f"sqlite:///{workdir / 'mlflow.db'}",
        artifacts_destination=workdir / "unused",
        default_artifact_root="mlflow-artifacts:/",
        serve_artifacts=True,
        # The harness takes a local folder; the last --artifacts-destination wins.
        extra_args=["--artifacts-destination", backend.uri],
    )
    with pytest.MonkeyPatch.context() as mp:
        for name, value in backend.env.items():
            mp.setenv(name, value)
        server = start_server("trackd", opts, workdir)
    try:
        yield backend, server
    finally:
        server.stop()


@pytest.fixture
def client(
    request: pytest.FixtureRequest, live: tuple[Backend, ServerProcess]
) -> Iterator[MlflowClient]:
    backend, server = live
    if not server.alive():
        pytest.fail(f"trackd died: {server.log_text()}")
    request.node._trackd_server = (server, server.log_size())
    mlflow.set_tracking_uri(server.url)
    experiment = mlflow.set_experiment(f"{backend.name}-{uuid.uuid4().hex[:8]}")
    try:
        yield MlflowClient(server.url)
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        mlflow.tracking.fluent._active_experiment_id = None
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        assert experiment.experiment_id


def _tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("top file\n")
    (root / "sub" / "b.json").write_text('{"k": 1}')
    (root / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "deeper" / "empty.txt").write_bytes(b"")
    return root


def test_nested_artifacts(client: MlflowClient, tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(source), "tree")
        mlflow.log_artifact(str(source / "a.txt"))
    run_id = run.info.run_id

    top = {(f.path, f.is_dir) for f in client.list_artifacts(run_id)}
    assert top == {("a.txt", False), ("tree", True)}
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, "tree/sub")] == [
        ("tree/sub/b.json", False, 8),
        ("tree/sub/deeper", True, None),
    ]
    deeper = {f.path: f.file_size for f in client.list_artifacts(run_id, "tree/sub/deeper")}
    assert deeper == {"tree/sub/deeper/c.bin": 300_000, "tree/sub/deeper/empty.txt": 0}
    assert client.list_artifacts(run_id, "tree/missing") == []

    target = tmp_path / "dst"
    target.mkdir()
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="tree", dst_path=str(target)
    )
    comparison = filecmp.dircmp(source, local)
    assert not comparison.left_only and not comparison.right_only
    for rel in ("a.txt", "sub/b.json", "sub/deeper/c.bin", "sub/deeper/empty.txt"):
        assert (Path(local) / rel).read_bytes() == (source / rel).read_bytes()


# Client-side chatter about type hints while loading; not the server's business.
@pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning")
def test_sklearn_model(client: MlflowClient) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model")
    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert np.array_equal(loaded.predict(X), model.predict(X))
    by_id = mlflow.sklearn.load_model(f"models:/{info.model_id}")
    assert np.array_equal(by_id.predict(X), model.predict(X))
    files = {f.path for f in client.list_artifacts(run.info.run_id, "model")} or {
        f.path for f in client.list_logged_model_artifacts(info.model_id)
    }
    assert any(p.endswith("MLmodel") for p in files)


def test_large_file_multipart(
    client: MlflowClient,
    live: tuple[Backend, ServerProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend, _ = live
    # 11 MiB in 5 MiB parts (S3's smallest allowed part): three parts.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(MIB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MIB))
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(4 * MIB))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * MIB))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), "large")
    relative = run.info.artifact_uri.removeprefix("mlflow-artifacts:").strip("/")
    key_path = f"{relative}/large/big.bin"

    _assert_parts(backend, key_path, expected_parts=3)
    out = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="large/big.bin", dst_path=str(tmp_path / "back")
    )
    assert (
        hashlib.sha256(Path(out).read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    )


def _assert_parts(backend: Backend, path: str, expected_parts: int) -> None:
    """Where the store can tell, check the object really was assembled from client parts."""
    if backend.name == "s3":
        bucket, _, prefix = backend.uri.removeprefix("s3://").partition("/")
        head = backend.storage.head_object(Bucket=bucket, Key=f"{prefix}/{path}")
        assert head["ETag"].strip('"').endswith(f"-{expected_parts}")
    elif backend.name == "azure":
        from trackd.artifacts.azure import parse_uri

        where = parse_uri(backend.uri)
        blob = backend.storage.get_blob_client(where.container, f"{where.prefix}/{path}")
        committed, _ = blob.get_block_list("committed")
        assert len(committed) == expected_parts
