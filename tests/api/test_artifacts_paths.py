"""Path safety: no artifact path or URI may leave its root, however it is spelt.

Every refused path answers 400 ``INVALID_PARAMETER_VALUE`` "Invalid path", as MLflow's server
does, on every endpoint that takes one.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackd.artifacts.paths import (
    check_file_path,
    check_relative_path,
    check_uri_under_roots,
    has_traversal,
    proxied_path,
    relative_to_root,
    uri_within_root,
)
from trackd.config import Settings
from trackd.errors import MlflowError

from .test_artifacts import PROXY, Served, served

# Each of these must be refused wherever a client can send a path.
BAD_PATHS = [
    "..",
    "../secret.txt",
    "a/../../secret.txt",
    "a/b/..",
    "/etc/passwd",
    "//etc/passwd",
    "C:/Windows/win.ini",
    "C:\\Windows\\win.ini",
    "a\\..\\..\\secret.txt",
    "\\\\server\\share\\x",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "..%2f..%2fsecret.txt",
    "%252e%252e/secret.txt",
    "%25252e%25252e%25252fsecret.txt",
    "%5c..%5csecret.txt",
    "a/%00/b.txt",
    "a\x00b.txt",
    "a/\x01b.txt",
    "file:///etc/passwd",
    "file:../secret.txt",
    "a/#/b.txt",
]

GOOD_PATHS = [
    ("a/b.txt", "a/b.txt"),
    ("a//b.txt", "a/b.txt"),
    ("./a/./b.txt", "a/b.txt"),
    ("a b/c d.txt", "a b/c d.txt"),
    ("dots..in..name.txt", "dots..in..name.txt"),
    ("...", "..."),
    ("m-0123/artifacts/MLmodel", "m-0123/artifacts/MLmodel"),
    ("", ""),
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_check_relative_path_refuses(path: str) -> None:
    with pytest.raises(MlflowError) as raised:
        check_relative_path(path)
    assert raised.value.code == "INVALID_PARAMETER_VALUE"
    assert raised.value.message == "Invalid path"


@pytest.mark.parametrize(("path", "expected"), GOOD_PATHS)
def test_check_relative_path_accepts(path: str, expected: str) -> None:
    assert check_relative_path(path) == expected


@pytest.mark.parametrize("path", ["", "a/", "/", "."])
def test_file_paths_must_name_a_file(path: str) -> None:
    with pytest.raises(MlflowError):
        check_file_path(path)


@pytest.fixture(scope="module")
def box(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server whose destination sits next to a secret it must never reveal or overwrite."""
    base = tmp_path_factory.mktemp("box")
    (base / "secret.txt").write_text("top secret")
    (base / "dest").mkdir()
    settings = Settings(backend_store_uri=database_url, artifacts_destination=str(base / "dest"))
    with served(settings) as s:
        yield s


def _assert_invalid(response: object, *, nul: bool = False) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    payload = response.json()  # type: ignore[attr-defined]
    assert status == 400, (status, payload)
    assert payload["error_code"] == "INVALID_PARAMETER_VALUE"
    if nul:  # refused for every field before any handler runs (api/nul.py)
        assert "NUL character" in payload["message"]
    else:
        assert payload["message"] == "Invalid path"


@pytest.mark.parametrize("path", BAD_PATHS)
def test_query_paths_refused_everywhere(box: Served, path: str) -> None:
    exp = box.api.new_experiment(f"paths-{abs(hash(path))}")
    run_id = box.api.new_run(exp)
    model = box.api.ok("POST", "logged-models", {"experiment_id": exp})["model"]["info"]
    for url, params in [
        (PROXY, {"path": path}),
        ("/api/2.0/mlflow/artifacts/list", {"run_id": run_id, "path": path}),
        ("/get-artifact", {"run_id": run_id, "path": path}),
        (f"/api/2.0/mlflow/logged-models/{model['model_id']}/artifacts/directories",
         {"artifact_directory_path": path}),
        (f"/ajax-api/2.0/mlflow/logged-models/{model['model_id']}/artifacts/files",
         {"artifact_file_path": path}),
    ]:
        _assert_invalid(box.client.get(url, params=params), nul="\x00" in path)


# Paths as they can travel in a URL path: encoded, since a literal ".." segment is removed by
# any HTTP client before it leaves (the live-server tier sends those raw).
URL_PATH_ATTACKS = [
    "%2e%2e/secret.txt",
    "dest/%2E%2E/%2E%2E/secret.txt",
    "%252e%252e/secret.txt",
    "a/%25252e%25252e/%25252e%25252e/secret.txt",
    "..%2fsecret.txt",
    "%2fetc%2fpasswd",
    "a%5c..%5c..%5csecret.txt",
    "a/%2500b.txt",
    "file:%2F%2F%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("path", URL_PATH_ATTACKS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_url_paths_refused(box: Served, path: str, method: str) -> None:
    kw = {"content": b"pwned"} if method == "PUT" else {}
    _assert_invalid(box.client.request(method, f"{PROXY}/{path}", **kw))
    mpu = box.client.request("POST", f"/api/2.0/mlflow-artifacts/mpu/create/{path}",
                             json={"path": "x.bin"})
    _assert_invalid(mpu)
    base = Path(box.settings.artifacts_destination).parent
    assert (base / "secret.txt").read_text() == "top secret"
    assert sorted(os.listdir(base)) == ["dest", "secret.txt"]


@pytest.mark.parametrize("name", ["../x.bin", "..\\x.bin", "/abs/x.bin"])
def test_multipart_file_name_is_reduced_to_its_basename(box: Served, name: str) -> None:
    # Older clients send a local path here; only its last part is used (then 501 locally).
    status, payload = box.api.post("/api/2.0/mlflow-artifacts/mpu/create/1/a", {"path": name})
    assert status == 501, payload


def test_symlink_out_of_the_destination_is_refused(box: Served) -> None:
    dest = Path(box.settings.artifacts_destination)
    (dest / "link").symlink_to(dest.parent)
    try:
        _assert_invalid(box.client.request("GET", f"{PROXY}/link/secret.txt"))
        _assert_invalid(box.client.request("PUT", f"{PROXY}/link/new.txt", content=b"x"))
        _assert_invalid(box.client.get(PROXY, params={"path": "link"}))
        assert not (dest.parent / "new.txt").exists()
    finally:
        (dest / "link").unlink()


# -- URIs: what the model registry uses for model-version sources ---------------------------


@pytest.mark.parametrize(
    ("uri", "root", "inside"),
    [
        ("/data/art/1/run/artifacts/model", "/data/art", True),
        ("/data/art", "/data/art", True),
        ("file:///data/art/1/x", "/data/art", True),
        ("/data/art/../etc/passwd", "/data/art", False),
        ("/data/artifacts-other/x", "/data/art", False),
        ("file:///etc/passwd", "/data/art", False),
        ("s3://bucket/root/1/x", "s3://bucket/root", True),
        ("s3://bucket/root/../other", "s3://bucket/root", False),
        ("s3://bucket/root%2f..%2f..%2fother", "s3://bucket/root", False),
        ("s3://other-bucket/root/x", "s3://bucket/root", False),
        ("gs://bucket/root/x", "s3://bucket/root", False),
        ("mlflow-artifacts:/1/run/artifacts", "mlflow-artifacts:/", True),
        ("mlflow-artifacts:/1/%2e%2e/%2e%2e/x", "mlflow-artifacts:/", False),
    ],
)
def test_uri_within_root(uri: str, root: str, inside: bool) -> None:
    assert uri_within_root(uri, root) is inside


def test_check_uri_under_roots(tmp_path: Path) -> None:
    roots = [str(tmp_path / "art"), "s3://bucket/prefix"]
    assert check_uri_under_roots(f"file://{tmp_path}/art/1/m", roots)
    assert check_uri_under_roots("s3://bucket/prefix/1/m", roots)
    for bad in (f"file://{tmp_path}/other", "s3://bucket/prefix/../x", "/etc/passwd",
                f"{tmp_path}/art/../other"):
        with pytest.raises(MlflowError) as raised:
            check_uri_under_roots(bad, roots, message="Invalid model version source")
        assert raised.value.message == "Invalid model version source"


def test_symlinked_local_uri_is_judged_by_its_target(tmp_path: Path) -> None:
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "escape").symlink_to(tmp_path)
    assert not uri_within_root(str(tmp_path / "art" / "escape" / "x"), str(tmp_path / "art"))


def test_relative_to_root_and_proxied_path() -> None:
    assert relative_to_root("/data/art/1/run", "/data/art") == "1/run"
    assert relative_to_root("/data/art", "/data/art") == ""
    assert relative_to_root("s3://b/p/1/x", "s3://b/p") == "1/x"
    assert relative_to_root("/elsewhere", "/data/art") is None
    assert proxied_path("mlflow-artifacts:/5/abc/artifacts") == "5/abc/artifacts"
    assert proxied_path("mlflow-artifacts://host:5000/5/abc") == "5/abc"
    assert proxied_path("https://h/api/2.0/mlflow-artifacts/artifacts/5/abc") == "5/abc"
    assert proxied_path("https://h/other/path") is None
    assert proxied_path("s3://b/x") is None
    with pytest.raises(MlflowError):
        proxied_path("mlflow-artifacts:/5/" + urllib.parse.quote("../..", safe=""))


@pytest.mark.parametrize(
    ("uri", "bad"),
    [
        ("s3://b/p/x", False),
        ("s3://b/p/../x", True),
        ("s3://b/p/%2e%2e/x", True),
        ("http://h/api/2.0/mlflow-artifacts/artifacts%00", True),
        ("/models/artifacts/../../", True),
        ("runs:/abc/model", False),
    ],
)
def test_has_traversal(uri: str, bad: bool) -> None:
    assert has_traversal(uri) is bad
