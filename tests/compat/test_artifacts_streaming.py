"""Artifact transfers against the live server: a 1 GiB file through the proxy in bounded memory,
byte ranges, an upload cut off half-way, and traversal paths sent raw over a socket."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from support.server import ServerProcess

pytestmark = pytest.mark.compat

GIB = 1024**3
MIB = 1024**2
RSS_LIMIT_MB = 300


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (mlflow server runs uvicorn as a child)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident size (VmHWM) among the server's processes, in MB."""
    peaks = []
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks)


def destination(server: ServerProcess) -> Path:
    return server.log_path.parent / "artifacts"


def sparse_file(path: Path, size: int, marks: dict[int, bytes]) -> None:
    """A file of ``size`` bytes made in an instant: holes, plus random blocks at ``marks``."""
    with path.open("wb") as fh:
        fh.truncate(size)
        for offset, block in marks.items():
            fh.seek(offset)
            fh.write(block)


def digest(path: Path) -> str:
    h = hashlib.blake2b()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * MIB):
            h.update(chunk)
    return h.hexdigest()


def test_one_gib_through_the_proxy(
    server: ServerProcess, client: MlflowClient, experiment_id: str, tmp_path: Path,
    record_property: pytest.RecordProperty,
) -> None:
    marks = {0: os.urandom(MIB), 512 * MIB: os.urandom(MIB), GIB - MIB: os.urandom(MIB)}
    big = tmp_path / "big.bin"
    sparse_file(big, GIB, marks)
    rss_before = peak_rss_mb(server.proc.pid)

    with mlflow.start_run() as run:
        started = time.monotonic()
        mlflow.log_artifact(str(big), artifact_path="large")
        upload_s = time.monotonic() - started
    run_id = run.info.run_id
    stored = destination(server) / experiment_id / run_id / "artifacts" / "large" / "big.bin"
    try:
        assert stored.stat().st_size == GIB
        [entry] = client.list_artifacts(run_id, "large")
        assert (entry.path, entry.file_size) == ("large/big.bin", GIB)

        # A range from the middle comes straight from the right offset.
        url = (f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}"
               f"/artifacts/large/big.bin")
        ranged = requests.get(url, headers={"Range": f"bytes={512 * MIB}-{513 * MIB - 1}"},
                              timeout=60)
        assert ranged.status_code == 206
        assert ranged.headers["content-range"] == f"bytes {512 * MIB}-{513 * MIB - 1}/{GIB}"
        assert ranged.content == marks[512 * MIB]

        started = time.monotonic()
        got = Path(client.download_artifacts(run_id, "large/big.bin", str(tmp_path / "dl")))
        download_s = time.monotonic() - started
        assert got.stat().st_size == GIB
        assert digest(got) == digest(big)
        rss_after = peak_rss_mb(server.proc.pid)
    finally:
        requests.delete(url, timeout=60)
        for path in (big, tmp_path / "dl" / "big.bin"):
            path.unlink(missing_ok=True)

    upload_mbs, download_mbs = GIB / MIB / upload_s, GIB / MIB / download_s
    for name, value in (("rss_before_mb", rss_before), ("rss_after_mb", rss_after),
                        ("upload_MiB_per_s", upload_mbs), ("download_MiB_per_s", download_mbs)):
        record_property(name, round(value, 1))
    print(f"\n1 GiB: server peak RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after; "
          f"upload {upload_s:.1f} s ({upload_mbs:.0f} MiB/s), "
          f"download {download_s:.1f} s ({download_mbs:.0f} MiB/s)")
    assert rss_after < RSS_LIMIT_MB, f"server peak RSS {rss_after:.0f} MB"


def test_ranges_on_the_live_server(
    server: ServerProcess, experiment_id: str, tmp_path: Path
) -> None:
    src = tmp_path / "abc.txt"
    src.write_bytes(b"abcdefghijklmnopqrstuvwxyz")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(src))
    url = (f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/"
           f"{run.info.run_id}/artifacts/abc.txt")
    full = requests.get(url, timeout=30)
    assert full.status_code == 200 and full.content == src.read_bytes()
    assert full.headers["content-disposition"] == "attachment; filename=abc.txt"
    assert full.headers["x-content-type-options"] == "nosniff"
    part = requests.get(url, headers={"Range": "bytes=3-5"}, timeout=30)
    assert part.status_code == 206 and part.content == b"def"
    assert part.headers["content-range"] == "bytes 3-5/26"
    tail = requests.get(url, headers={"Range": "bytes=-2"}, timeout=30)
    assert tail.status_code == 206 and tail.content == b"yz"
    beyond = requests.get(url, headers={"Range": "bytes=30-"}, timeout=30)
    assert beyond.status_code == 416
    ui = requests.get(f"{server.url}/get-artifact",
                      params={"run_uuid": run.info.run_id, "path": "abc.txt"},
                      headers={"Range": "bytes=0-0"}, timeout=30)
    assert ui.status_code == 206 and ui.content == b"a"


def _files_below(directory: Path) -> list[Path]:
    """Files under ``directory``, read while the server may be removing it (then: retry)."""
    for _ in range(50):
        try:
            return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []
        except FileNotFoundError:  # a directory went away between listing and reading it
            time.sleep(0.05)
    raise AssertionError(f"{directory} kept changing while being listed")


def test_interrupted_upload_leaves_no_file(
    server: ServerProcess, compat_target: str, experiment_id: str
) -> None:
    with mlflow.start_run() as run:
        pass
    run_dir = destination(server) / experiment_id / run.info.run_id / "artifacts"
    path = (f"{server.prefix}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/"
            f"{run.info.run_id}/artifacts/cut/part.bin")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream"
            f"\r\nContent-Length: {50 * MIB}\r\n\r\n".encode()
        )
        for _ in range(5):
            sock.sendall(os.urandom(MIB))
        time.sleep(0.5)  # let the server write some of it before the client vanishes

    def leftovers() -> list[Path]:
        found = _files_below(run_dir)
        # trackd also removes the directories it had created for the upload, right after the
        # staging file: wait for both (a check between the two failed CI once).
        if compat_target == "trackd" and (run_dir / "cut").exists():
            found.append(run_dir / "cut")
        return found

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and leftovers():
        time.sleep(0.2)
    assert leftovers() == []
    # The server is fine afterwards.
    assert requests.get(f"{server.url}/health", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("GET", "/api/2.0/mlflow-artifacts/artifacts/../../../../etc/passwd"),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts/1/../../escape.txt"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/../escape.txt"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/%2e%2e/%2e%2e/escape.txt"),
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/../artifacts"),
        ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/."),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts?path=../.."),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts?path=%252e%252e%252f"),
    ],
)
def test_raw_traversal_paths(
    server: ServerProcess, compat_target: str, method: str, tail: str
) -> None:
    if tail.endswith("/.") and compat_target == "mlflow":
        pytest.skip("MLflow 3.18 takes '.' as its whole destination here; trackd refuses")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = b"pwned" if method == "PUT" else None
    conn.request(method, server.prefix + tail, body=body)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    assert response.status == 400, (response.status, payload[:300])
    assert b"Invalid path" in payload
    workdir = server.log_path.parent
    assert not (workdir / "escape.txt").exists()
    assert destination(server).is_dir()
