"""Run artifacts through the official 3.18 client, with a proxied root (``mlflow-artifacts:/``,
the session server) and with a direct root (``--no-serve-artifacts --default-artifact-root``,
where the client writes files itself and the server only lists them)."""

from __future__ import annotations

import filecmp
import json
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from support.db import enter_database
from support.server import ServerOptions, ServerProcess, running_server

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def direct_server(
    compat_target: str, db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"direct-{compat_target}-{db_kind}")
    with enter_database(db_kind, workdir) as url:
        opts = ServerOptions(
            backend_store_uri=url,
            artifacts_destination=workdir / "unused-destination",
            default_artifact_root=str(workdir / "root"),
            serve_artifacts=False,
        )
        with running_server(compat_target, opts, workdir) as server:
            yield server


@pytest.fixture(params=["proxied", "direct"])
def server(request: pytest.FixtureRequest, live_server: ServerProcess) -> ServerProcess:
    """Overrides the compat tier's ``server``: every test here runs against both roots."""
    chosen = live_server if request.param == "proxied" else request.getfixturevalue(
        "direct_server"
    )
    if not chosen.alive():
        pytest.fail(f"server died; its log:\n{chosen.log_text()}")
    request.node._trackd_server = (chosen, chosen.log_size())
    return chosen


def make_tree(base: Path) -> Path:
    tree = base / "tree"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "top.txt").write_text("top level\n")
    (tree / "sub" / "data.csv").write_text("a,b\n1,2\n")
    (tree / "sub" / "deeper" / "blob.bin").write_bytes(bytes(range(256)) * 300)
    return tree


def test_artifact_uri(
    request: pytest.FixtureRequest, client: MlflowClient, experiment_id: str
) -> None:
    with mlflow.start_run() as run:
        uri = mlflow.get_artifact_uri()
        assert mlflow.get_artifact_uri("plots/a.png") == f"{uri}/plots/a.png"
    run_id = run.info.run_id
    if request.node.callspec.params["server"] == "direct":
        assert uri.endswith(f"/root/{experiment_id}/{run_id}/artifacts")
        assert uri.startswith("/")
    else:
        assert uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    assert client.get_run(run_id).info.artifact_uri == uri


def test_log_list_download(
    client: MlflowClient, experiment_id: str, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path)
    single = tmp_path / "hello.txt"
    single.write_text("hello\n")
    image = (np.arange(16 * 16 * 3) % 256).astype(np.uint8).reshape(16, 16, 3)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="again")
        mlflow.log_artifacts(str(tree), artifact_path="tree")
        mlflow.log_text("some text", "texts/note.txt")
        mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config/params.json")
        mlflow.log_image(image, "images/square.png")
    run_id = run.info.run_id

    def listed(path: str | None = None) -> list[tuple[str, bool, int | None]]:
        return [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, path)]

    assert listed() == [
        ("again", True, None), ("config", True, None), ("hello.txt", False, 6),
        ("images", True, None), ("texts", True, None), ("tree", True, None),
    ]
    assert listed("tree") == [("tree/sub", True, None), ("tree/top.txt", False, 10)]
    assert listed("tree/sub") == [("tree/sub/data.csv", False, 8), ("tree/sub/deeper", True, None)]
    assert listed("tree/sub/deeper") == [("tree/sub/deeper/blob.bin", False, 256 * 300)]
    assert listed("again") == [("again/hello.txt", False, 6)]
    assert listed("missing") == []

    out = tmp_path / "out"
    out.mkdir()
    folder = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="tree",
                                                 dst_path=str(out))
    match, mismatch, errors = filecmp.cmpfiles(
        tree, folder, ["top.txt", "sub/data.csv", "sub/deeper/blob.bin"], shallow=False
    )
    assert (mismatch, errors) == ([], []), (mismatch, errors)
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/texts/note.txt") == "some text"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/params.json") == {
        "lr": 0.1, "layers": [1, 2]
    }
    png = Path(client.download_artifacts(run_id, "images/square.png", str(out)))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(png) as loaded:
        assert np.array_equal(np.asarray(loaded), image)
    whole = Path(client.download_artifacts(run_id, "", str(tmp_path / "all")))
    assert (whole / "hello.txt").read_text() == "hello\n"
    assert json.loads((whole / "config" / "params.json").read_text())["lr"] == 0.1


def test_download_single_file_and_missing(
    client: MlflowClient, experiment_id: str, tmp_path: Path
) -> None:
    src = tmp_path / "one.txt"
    src.write_text("one")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(src), artifact_path="d")
    got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="d/one.txt",
                                              dst_path=str(tmp_path / "dl"))
    assert Path(got).read_text() == "one"
    with pytest.raises(Exception):  # noqa: B017 - the client's error type differs per root
        mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="d/none.txt",
                                            dst_path=str(tmp_path / "dl2"))
