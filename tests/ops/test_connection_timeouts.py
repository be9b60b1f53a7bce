"""Issue 12, finding 6: connections that never finish a request are closed.

Before the guards, 400 connections that never finished their headers or body were all still
open after 25 s. Here each kind is opened against a server with short timeouts, and each must
be closed by the server (the socket reads end-of-file or a reset) within a few seconds, while
the server keeps answering everyone else.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from ops.conftest import trackd_process

N = 60  # connections of each kind


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True  # end of file: closed
            # An answer (e.g. the handlers' 400 for a stalled body) is fine; then EOF follows.
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with trackd_process(tmp_path, "--backend-store-uri", f"sqlite:///{tmp_path / 'm.db'}",
                        "--artifacts-destination", str(tmp_path / "artifacts"),
                        "--header-timeout", "1", "--body-timeout", "2",
                        "--keep-alive-timeout", "1") as running:
        yield running


def _open(url: str, first_bytes: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(first_bytes)
    return sock


def test_unfinished_headers_bodies_and_idle_connections_are_closed(server) -> None:  # type: ignore[no-untyped-def]
    partial_headers = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    partial_body = (b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"na")
    kinds = {"headers": partial_headers, "body": partial_body, "silent": b""}
    sockets = {kind: [_open(server.url, first) for _ in range(N)] for kind, first in kinds.items()}
    try:
        # Everyone else is still served while they hang on.
        assert httpx.get(server.url + "/health", timeout=10).status_code == 200
        for kind, opened in sockets.items():
            still_open = [s for s in opened if not _closed_by_server(s, within=6)]
            assert still_open == [], f"{len(still_open)} '{kind}' connections still open"
    finally:
        for opened in sockets.values():
            for sock in opened:
                sock.close()
    assert "Traceback" not in server.log_text()


def test_a_slow_but_steady_client_is_not_cut_off(server) -> None:  # type: ignore[no-untyped-def]
    body = b'{"name": "steady"}'
    sock = _open(server.url, b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\n"
                             b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             + f"Content-Length: {len(body)}\r\n\r\n".encode())
    with sock:
        for i in range(0, len(body), 6):  # each pause well under the body timeout (2 s)
            time.sleep(0.3)
            sock.sendall(body[i:i + 6])
        sock.settimeout(10)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_an_upload_that_stalls_half_way_is_dropped_and_leaves_nothing(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Pieces that keep coming are fine however long the upload takes (the timer is per wait);
    # one wait over the body timeout (2 s) ends the upload like a hang-up: no file, no staging.
    sock = _open(server.url, b"PUT /api/2.0/mlflow-artifacts/artifacts/stall/big.bin HTTP/1.1\r\n"
                             b"Host: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n")
    with sock:
        for _ in range(10):  # 2.5 s of steady pieces, longer than the body timeout
            sock.sendall(b"x" * 100_000)
            time.sleep(0.25)
        assert _closed_by_server(sock, within=8)
    folder = tmp_path / "artifacts" / "stall"
    assert not folder.exists() or list(folder.iterdir()) == []
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200
    assert "Traceback" not in server.log_text()
