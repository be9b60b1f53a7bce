"""Issue 12, finding 7: listings do not report what lies behind a symlink that leaves the root,
and UI pages carry a Content-Security-Policy."""

from __future__ import annotations

import os
from pathlib import Path

from support.asgi import in_process

from trackd.config import Settings


def test_a_symlink_out_of_the_root_is_listed_without_its_size(tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"s" * 12345)
    destination = tmp_path / "artifacts"
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
                        artifacts_destination=str(destination))
    with in_process(settings) as served:
        client = served.client
        put = client.request("PUT", "/api/2.0/mlflow-artifacts/artifacts/d/inside.txt",
                             content=b"hello")
        assert put.status_code == 200
        os.symlink(outside, destination / "d" / "link.bin")
        listed = client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "d"}).json()
        files = {f["path"]: f for f in listed["files"]}
        assert files["inside.txt"]["file_size"] == 5
        assert "file_size" not in files["link.bin"], files["link.bin"]
        assert "12345" not in str(listed)
        # Reading through it stays refused.
        got = client.get("/api/2.0/mlflow-artifacts/artifacts/d/link.bin")
        assert got.status_code == 400


def test_ui_pages_send_a_content_security_policy(tmp_path: Path) -> None:
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
                        artifacts_destination=str(tmp_path / "artifacts"))
    with in_process(settings) as served:
        page = served.client.get("/experiments")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
        missing = served.client.get("/experiments/does-not-exist")
        assert "content-security-policy" in missing.headers  # error pages too
        # The API is JSON: no policy needed there.
        api = served.client.get("/api/2.0/mlflow/experiments/search", params={"max_results": 1})
        assert "content-security-policy" not in api.headers
