"""Issue 12, findings 4 (static paths) and 5 (quiet disconnects), over real HTTP.

A client that sends half a request body and hangs up used to leave an "unhandled error" and a
full traceback in the server log, one per hang-up: a cheap way to flood the log. A NUL in a
static asset's path answered 500.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from ops.conftest import trackd_process


def _server_args(tmp_path: Path) -> list[str]:
    return ["--backend-store-uri", f"sqlite:///{tmp_path / 'm.db'}",
            "--artifacts-destination", str(tmp_path / "artifacts")]


def _hang_up_mid_body(port: int, path: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                     '{"name": "'.encode() + b"x" * 5000)
        time.sleep(0.05)


def test_clients_hanging_up_leave_no_tracebacks(tmp_path: Path) -> None:
    with trackd_process(tmp_path, *_server_args(tmp_path)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        for path in ("/api/2.0/mlflow/experiments/create", "/api/2.0/mlflow/runs/search",
                     "/api/2.0/mlflow/runs/log-batch") * 10:
            _hang_up_mid_body(port, path)
        time.sleep(1.0)
        assert httpx.get(server.url + "/health", timeout=10).status_code == 200
        log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert "unhandled error" not in log


def test_a_nul_in_a_static_path_is_404(tmp_path: Path) -> None:
    with trackd_process(tmp_path, *_server_args(tmp_path)) as server:
        for path in ("/static/x%00.css", "/static/trackd.css%00", "/static/%00"):
            got = httpx.get(server.url + path, timeout=10)
            assert got.status_code == 404, (path, got.status_code)
        assert "Traceback" not in server.log_text()
