"""The proxy API (``/mlflow-artifacts/...``) in-process: upload, download, ranges, listing,
delete, multipart fallbacks, interrupted uploads. Shapes and codes are MLflow 3.18's
(mlflow-api.md §3.5, captures A/C/D)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from support.asgi import SyncClient, in_process

from trackd.app import TrackdApp
from trackd.config import Settings

from .conftest import Api

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass
class Served:
    api: Api
    app: TrackdApp
    portal: Any
    settings: Settings

    @property
    def client(self) -> SyncClient:
        return self.api.client

    def put(self, path: str, body: bytes, **kw: Any) -> Any:
        return self.client.request("PUT", f"{PROXY}/{path}", content=body, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.request("GET", f"{PROXY}/{path}", **kw)

    def listing(self, path: str | None) -> Any:
        params = {} if path is None else {"path": path}
        response = self.client.get(PROXY, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def served(settings: Settings) -> Iterator[Served]:
    with in_process(settings) as running:
        yield Served(Api(running.client), running.app, running.portal, settings)


@pytest.fixture(scope="module")
def proxy(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    dest = tmp_path_factory.mktemp("destination")
    with served(Settings(backend_store_uri=database_url, artifacts_destination=str(dest))) as s:
        yield s


def dest(s: Served) -> Path:
    return Path(s.settings.artifacts_destination)


def test_upload_download_roundtrip(proxy: Served) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)  # several chunks, not a multiple of one
    response = proxy.put("7/run1/artifacts/sub/data.bin", body,
                         headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200
    assert (dest(proxy) / "7/run1/artifacts/sub/data.bin").read_bytes() == body
    got = proxy.get("7/run1/artifacts/sub/data.bin")
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["content-length"] == str(len(body))
    assert got.headers["content-disposition"] == "attachment; filename=data.bin"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("MLmodel", "text/plain"),
        ("conda.yaml", "text/plain"),
        ("metrics.json", "text/plain"),
        ("plot.png", "image/png"),
        ("model.skops", "application/octet-stream"),
        ("page.html", "text/html"),
    ],
)
def test_download_content_type(proxy: Served, name: str, content_type: str) -> None:
    proxy.put(f"types/{name}", b"x")
    got = proxy.get(f"types/{name}")
    assert got.headers["content-type"].split(";")[0] == content_type
    assert got.headers["content-disposition"] == f"attachment; filename={name}"


def test_non_ascii_file_name(proxy: Served) -> None:
    assert proxy.put("names/résumé é.txt", b"cv").status_code == 200
    got = proxy.get("names/résumé é.txt")
    assert got.content == b"cv"
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%C3%A9.txt" in got.headers["content-disposition"]
    assert proxy.listing("names") == {"files": [{"path": "résumé é.txt", "is_dir": False,
                                                 "file_size": 2}]}


def test_overwrite_replaces_content(proxy: Served) -> None:
    proxy.put("over/a.txt", b"first version")
    proxy.put("over/a.txt", b"second")
    assert proxy.get("over/a.txt").content == b"second"


def test_empty_file(proxy: Served) -> None:
    assert proxy.put("empty/zero.txt", b"").status_code == 200
    got = proxy.get("empty/zero.txt")
    assert got.status_code == 200 and got.content == b""
    assert proxy.listing("empty") == {"files": [{"path": "zero.txt", "is_dir": False,
                                                 "file_size": 0}]}


@pytest.mark.parametrize(
    ("header", "status", "content_range", "expected"),
    [
        ("bytes=0-4", 206, "bytes 0-4/26", b"abcde"),
        ("bytes=10-", 206, "bytes 10-25/26", b"klmnopqrstuvwxyz"),
        ("bytes=-3", 206, "bytes 23-25/26", b"xyz"),
        ("bytes=20-1000", 206, "bytes 20-25/26", b"uvwxyz"),
        ("bytes=25-25", 206, "bytes 25-25/26", b"z"),
        ("bytes=0-1,5-6", 200, None, b"abcdefghijklmnopqrstuvwxyz"),  # multi-range: whole file
        ("bytes=5-2", 200, None, b"abcdefghijklmnopqrstuvwxyz"),  # invalid spec: ignored
        ("lines=1-2", 200, None, b"abcdefghijklmnopqrstuvwxyz"),  # unknown unit: ignored
    ],
)
def test_range_download(
    proxy: Served, header: str, status: int, content_range: str | None, expected: bytes
) -> None:
    proxy.put("range/abc.txt", b"abcdefghijklmnopqrstuvwxyz")
    got = proxy.get("range/abc.txt", headers={"Range": header})
    assert got.status_code == status
    assert got.content == expected
    assert got.headers.get("content-range") == content_range
    assert got.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("header", ["bytes=26-", "bytes=100-200", "bytes=-0"])
def test_range_not_satisfiable(proxy: Served, header: str) -> None:
    proxy.put("range/abc.txt", b"abcdefghijklmnopqrstuvwxyz")
    got = proxy.get("range/abc.txt", headers={"Range": header})
    assert got.status_code == 416
    assert got.headers["content-range"] == "bytes */26"


def test_if_range_mismatch_sends_whole_file(proxy: Served) -> None:
    proxy.put("range/ir.txt", b"0123456789")
    etag = proxy.get("range/ir.txt").headers["etag"]
    partial = proxy.get("range/ir.txt", headers={"Range": "bytes=2-3", "If-Range": etag})
    assert partial.status_code == 206 and partial.content == b"23"
    stale = proxy.get("range/ir.txt", headers={"Range": "bytes=2-3", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == b"0123456789"


def test_head_sends_headers_only(proxy: Served) -> None:
    proxy.put("head/h.txt", b"12345")
    got = proxy.client.request("HEAD", f"{PROXY}/head/h.txt")
    assert got.status_code == 200
    assert got.headers["content-length"] == "5"
    assert got.content == b""


def test_listing_shapes(proxy: Served) -> None:
    for path in ("L/run/artifacts/a.txt", "L/run/artifacts/d/b.txt", "L/run/artifacts/d/e/c.txt"):
        proxy.put(path, b"abc")
    (dest(proxy) / "L/run/artifacts/emptydir").mkdir()
    assert proxy.listing("L/run/artifacts") == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 3},
            {"path": "d", "is_dir": True},
            {"path": "emptydir", "is_dir": True},
        ]
    }
    # Basenames only, at every depth.
    assert proxy.listing("L/run/artifacts/d") == {
        "files": [{"path": "b.txt", "is_dir": False, "file_size": 3},
                  {"path": "e", "is_dir": True}]
    }
    # MLflow answers {} for a missing directory, an empty one and a file.
    assert proxy.listing("L/run/artifacts/missing") == {}
    assert proxy.listing("L/run/artifacts/emptydir") == {}
    assert proxy.listing("L/run/artifacts/a.txt") == {}


def test_listing_root(proxy: Served) -> None:
    proxy.put("rootlist/x.txt", b"x")
    files = proxy.listing(None)["files"]
    assert {"path": "rootlist", "is_dir": True} in files


def test_download_missing_and_directory(proxy: Served) -> None:
    missing = proxy.get("nothing/here.txt")
    assert missing.status_code == 404
    assert missing.json() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "No such artifact: 'nothing/here.txt'",
        "error_class": "RESOURCE_NOT_FOUND",
    }
    proxy.put("adir/inside.txt", b"1")
    directory = proxy.get("adir")
    assert directory.status_code == 400
    assert directory.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_delete_file_and_tree(proxy: Served) -> None:
    proxy.put("del/keep.txt", b"k")
    proxy.put("del/tree/a.txt", b"a")
    proxy.put("del/tree/sub/b.txt", b"b")
    response = proxy.client.request("DELETE", f"{PROXY}/del/keep.txt")
    assert response.status_code == 200 and response.json() == {}
    assert not (dest(proxy) / "del/keep.txt").exists()
    assert proxy.client.request("DELETE", f"{PROXY}/del/tree").status_code == 200
    assert not (dest(proxy) / "del/tree").exists()
    # Deleting what is not there is fine, as in MLflow.
    assert proxy.client.request("DELETE", f"{PROXY}/del/never").status_code == 200


@pytest.mark.parametrize("path", ["%2e", "%2e/", "%2e%2f%2e", "%252e"])
def test_delete_never_takes_the_whole_destination(proxy: Served, path: str) -> None:
    proxy.put("precious/data.txt", b"keep me")
    response = proxy.client.request("DELETE", f"{PROXY}/{path}")
    assert response.status_code == 400
    assert (dest(proxy) / "precious/data.txt").read_bytes() == b"keep me"


def test_upload_onto_directory_or_below_file_is_refused(proxy: Served) -> None:
    proxy.put("clash/dir/inner.txt", b"1")
    assert proxy.put("clash/dir", b"x").status_code == 400
    proxy.put("clash/file.txt", b"1")
    assert proxy.put("clash/file.txt/child.txt", b"x").status_code == 400
    assert (dest(proxy) / "clash/file.txt").read_bytes() == b"1"


def test_reserved_staging_name_is_refused(proxy: Served) -> None:
    response = proxy.put("staging/.artifact.uploading.abc", b"x")
    assert response.status_code == 400
    assert "reserved" in response.json()["message"]


def test_staging_files_are_hidden_from_listings(proxy: Served) -> None:
    proxy.put("hidden/real.txt", b"r")
    (dest(proxy) / "hidden/.artifact.uploading.xyz").write_bytes(b"partial")
    assert proxy.listing("hidden") == {"files": [{"path": "real.txt", "is_dir": False,
                                                  "file_size": 1}]}


@pytest.mark.parametrize("action", ["create", "complete", "abort"])
def test_multipart_is_not_implemented_on_local_store(proxy: Served, action: str) -> None:
    body: dict[str, Any] = {"path": "big.bin", "num_parts": 2, "upload_id": "u",
                            "parts": [{"part_number": 1, "etag": "e", "url": "u"}]}
    status, payload = proxy.api.post(f"/api/2.0/mlflow-artifacts/mpu/{action}/1/run/artifacts",
                                     body)
    assert status == 501
    assert payload["error_code"] == "NOT_IMPLEMENTED"
    # The client falls back to a plain PUT when the message says exactly this.
    assert payload["message"].startswith("Multipart upload is not supported")


def test_multipart_create_requires_path(proxy: Served) -> None:
    status, payload = proxy.api.post("/api/2.0/mlflow-artifacts/mpu/create/1/x", {})
    assert status == 400 and "'path'" in payload["message"]


def test_presigned_download_is_not_implemented(proxy: Served) -> None:
    proxy.put("pre/a.txt", b"a")
    status, payload = proxy.api.get("/api/2.0/mlflow-artifacts/presigned/pre/a.txt")
    assert status == 501 and payload["error_code"] == "NOT_IMPLEMENTED"


def test_ajax_prefix_serves_the_same(proxy: Served) -> None:
    proxy.put("ajax/a.txt", b"via api")
    got = proxy.client.request("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts/ajax/a.txt")
    assert got.content == b"via api"


def _asgi_put(s: Served, path: str, chunks: list[bytes], *, disconnect: bool,
              declared: int) -> list[dict[str, Any]]:
    """Drive the ASGI app by hand: send ``chunks`` and then either finish or hang up."""
    raw = f"{PROXY}/{path}".encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "PUT", "scheme": "http", "path": raw.decode(), "raw_path": raw,
        "query_string": b"", "root_path": "", "server": ("trackd.test", 80),
        "client": ("127.0.0.1", 1234),
        "headers": [(b"content-length", str(declared).encode()), (b"host", b"trackd.test")],
    }
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": True} for c in chunks
    ]
    messages.append({"type": "http.disconnect"} if disconnect
                    else {"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await anyio.sleep_forever()
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await s.app(scope, receive, send)

    s.portal.call(run)
    return sent


def test_interrupted_upload_leaves_nothing(proxy: Served) -> None:
    chunks = [os.urandom(700_000) for _ in range(3)]
    _asgi_put(proxy, "cut/new/deep/file.bin", chunks, disconnect=True, declared=10_000_000)
    assert not (dest(proxy) / "cut").exists()  # no file, no staging file, no new directories
    # The same upload completed normally works and leaves exactly the file.
    sent = _asgi_put(proxy, "cut/new/deep/file.bin", chunks, disconnect=False,
                     declared=sum(map(len, chunks)))
    assert sent[0]["status"] == 200
    assert os.listdir(dest(proxy) / "cut/new/deep") == ["file.bin"]


def test_interrupted_overwrite_keeps_previous_version(proxy: Served) -> None:
    proxy.put("cut2/keep.txt", b"old and complete")
    _asgi_put(proxy, "cut2/keep.txt", [b"new but cut"], disconnect=True, declared=1000)
    assert (dest(proxy) / "cut2/keep.txt").read_bytes() == b"old and complete"
    assert os.listdir(dest(proxy) / "cut2") == ["keep.txt"]
