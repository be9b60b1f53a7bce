"""Request bodies through trackd's uvicorn protocol (trackd.http_body): every byte arrives, in
order, whether the app reads each piece as it comes or lets pieces queue up and be joined."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from trackd.http_timeouts import HeaderTimeoutProtocol

BODY = os.urandom(3 * 1024 * 1024 + 17)


class _Echo:
    """Answers with the body's length, SHA-256 and number of pieces; ``slow`` waits between
    receives so that the server buffers (and joins) pieces meanwhile."""

    def __init__(self) -> None:
        self.slow = False

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        digest, size, pieces, more = hashlib.sha256(), 0, 0, True
        while more:
            if self.slow:
                await asyncio.sleep(0.002)
            message = await receive()
            body = message.get("body", b"")
            assert type(body) is bytes
            digest.update(body)
            size += len(body)
            pieces += 1
            more = message.get("more_body", False)
        reply = f"{size} {digest.hexdigest()} {pieces}".encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(reply)).encode())]})
        await send({"type": "http.response.body", "body": reply})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[int, _Echo]]:
    app = _Echo()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=HeaderTimeoutProtocol, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield sock.getsockname()[1], app
    server.should_exit = True
    thread.join(10)


def _put(port: int, head: bytes, pieces: list[bytes]) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        for piece in pieces:
            s.sendall(piece)
        data = b""
        while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode().split()


def _slices(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("slow", [False, True])
@pytest.mark.parametrize("piece", [1000, 65536, 1 << 20])
def test_a_sized_body_arrives_whole(served: tuple[int, _Echo], slow: bool, piece: int) -> None:
    port, app = served
    app.slow = slow
    head = (f"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: {len(BODY)}\r\n\r\n").encode()
    size, digest, pieces = _put(port, head, _slices(BODY, piece))
    assert int(size) == len(BODY)
    assert digest == hashlib.sha256(BODY).hexdigest()
    assert int(pieces) >= 1


@pytest.mark.parametrize("slow", [False, True])
def test_a_chunked_body_arrives_whole(served: tuple[int, _Echo], slow: bool) -> None:
    port, app = served
    app.slow = slow
    head = b"PUT /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    framed = [b"%x\r\n%s\r\n" % (len(p), p) for p in _slices(BODY, 50_000)] + [b"0\r\n\r\n"]
    size, digest, _ = _put(port, head, framed)
    assert int(size) == len(BODY)
    assert digest == hashlib.sha256(BODY).hexdigest()
