"""Artifact uploads that fail half-way, against a live `trackd server`: a destination that runs
out of space, one that caps file sizes, and a client that hangs up mid-upload. Each must leave
nothing behind (no partial file, no staging file, no empty directory) and the server serving.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ops.conftest import Proc, trackd_process

MIB = 1024 * 1024
UPLOAD = "/api/2.0/mlflow-artifacts/artifacts"


def files_under(root: Path) -> list[str]:
    """Everything below ``root`` (files and directories), hidden staging files included.

    os.walk, not rglob: the server may be removing a directory while this looks at it."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


def unavailable(reason: str) -> None:
    """Skip where the machine cannot provide the fault; in CI that is a broken runner: fail."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must be able to run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB filesystem (tmpfs) for the artifact destination."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        unavailable(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def server_args(tmp_path: Path, destination: Path) -> list[str]:
    return ["--backend-store-uri", f"sqlite:///{tmp_path / 'm.db'}",
            "--artifacts-destination", str(destination)]


def log_artifact_error(server: Proc, source: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Upload with the official client; the text of the error it raises."""
    from mlflow import MlflowClient

    # Keeps the test short even if the answer were one the client retries (429, 5xx); it
    # never retries the 507 trackd gives.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = MlflowClient(server.url)
    run = client.create_run(client.create_experiment("faults"))
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the client's own exception types
        client.log_artifact(run.info.run_id, str(source))
    return str(raised.value)


def test_full_destination_answers_507_and_keeps_nothing(
        tmp_path: Path, small_filesystem: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = small_filesystem
    with trackd_process(tmp_path, *server_args(tmp_path, dest)) as server:
        resp = httpx.put(f"{server.url}{UPLOAD}/1/run/artifacts/deep/dir/big.bin",
                         content=os.urandom(4 * MIB), timeout=60)
        assert resp.status_code == 507, resp.text
        body = resp.json()
        assert body["error_code"] == "INSUFFICIENT_STORAGE"
        assert body["message"].startswith("No space left on the artifact store")
        assert "deep/dir/big.bin" in body["message"]
        assert files_under(dest) == []  # no partial file, staging file or new directory

        source = tmp_path / "weights.bin"
        source.write_bytes(os.urandom(3 * MIB))
        message = log_artifact_error(server, source, monkeypatch)
        assert "507" in message and "No space left on the artifact store" in message
        assert files_under(dest) == []

        # The space came back with the staging files: a file that fits is stored.
        ok = httpx.put(f"{server.url}{UPLOAD}/1/run/artifacts/small.bin",
                       content=b"s" * 100_000, timeout=60)
        assert ok.status_code == 200, ok.text
        assert (dest / "1" / "run" / "artifacts" / "small.bin").stat().st_size == 100_000


def test_file_size_cap_answers_507_and_keeps_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RLIMIT_FSIZE on the server process: its writes past 4 MiB fail with EFBIG (Python
    ignores SIGXFSZ), as on a filesystem with a per-file cap. Needs no privileges."""
    dest = tmp_path / "artifacts"
    with trackd_process(tmp_path, *server_args(tmp_path, dest)) as server:
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (4 * MIB, 4 * MIB))
        resp = httpx.put(f"{server.url}{UPLOAD}/2/run/artifacts/huge.bin",
                         content=os.urandom(6 * MIB), timeout=60)
        assert resp.status_code == 507, resp.text
        assert resp.json()["message"].startswith(
            "The file is larger than the artifact store accepts")
        source = tmp_path / "model.bin"
        source.write_bytes(os.urandom(5 * MIB))
        message = log_artifact_error(server, source, monkeypatch)
        assert "The file is larger than the artifact store accepts" in message
        assert files_under(dest) == []
        small = httpx.put(f"{server.url}{UPLOAD}/2/run/artifacts/ok.bin", content=b"k" * 1000,
                          timeout=60)
        assert small.status_code == 200


def eventually_empty(root: Path, timeout: float = 60.0) -> list[str]:
    """What is left under ``root`` once the server has had time to clean up after a hang-up."""
    deadline = time.monotonic() + timeout
    while (left := files_under(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_client_hanging_up_mid_upload_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "artifacts"
    with trackd_process(tmp_path, *server_args(tmp_path, dest)) as server:
        address = urlsplit(server.url)
        for attempt in range(3):
            path = f"{UPLOAD}/3/run{attempt}/artifacts/model/weights.bin"
            with contextlib.closing(socket.create_connection(
                    (address.hostname, address.port), timeout=30)) as sock:
                sock.sendall((f"PUT {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                              f"Content-Length: {10 * MIB}\r\n"
                              "Content-Type: application/octet-stream\r\n\r\n").encode())
                sock.sendall(os.urandom(MIB))
                # Wait until the server has started the file, so the hang-up is mid-write.
                deadline = time.monotonic() + 30
                while not files_under(dest) and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert files_under(dest), "the upload never reached the destination"
            assert eventually_empty(dest) == []
        # The server carries on: a complete upload after the broken ones is stored and listed.
        done = httpx.put(f"{server.url}{UPLOAD}/3/whole.bin", content=b"w" * 2 * MIB, timeout=60)
        assert done.status_code == 200, done.text
        listing = httpx.get(f"{server.url}{UPLOAD}", params={"path": "3"}, timeout=30).json()
        assert listing == {"files": [{"path": "whole.bin", "is_dir": False,
                                      "file_size": 2 * MIB}]}
    assert "Traceback" not in server.log_text()
