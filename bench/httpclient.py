"""A tiny HTTP/1.1 keep-alive client over asyncio streams: the load generator's only tool.

Why hand-written: the generator shares two cores with the server it measures, so every
microsecond it spends is taken from the server. A general client (httpx, aiohttp) costs
several times more per request than writing pre-built bytes and parsing one status line and
a Content-Length. This one speaks just what the benchmark needs: one request at a time per
connection, Content-Length or chunked bodies, streamed uploads and downloads.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlencode

import orjson

JSON_HEADERS = b"Content-Type: application/json\r\n"


class HttpError(Exception):
    """A response other than 200, with its status and the start of its body."""

    def __init__(self, status: int, body: bytes, what: str) -> None:
        super().__init__(f"{what}: HTTP {status} {body[:200].decode('utf-8', 'replace')}")
        self.status = status
        self.body = body


class Connection:
    """One keep-alive connection; reconnects by itself when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Without it the kernel may hold a small request back ~40 ms waiting for an ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader, self._writer = reader, writer
        return reader, writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    def _head(self, method: str, path: str, extra: bytes, length: int | None) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self._host_header + extra
        if length is not None:
            head += b"Content-Length: %d\r\n" % length
        return head + b"\r\n"

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request and return (status, body)."""
        reused = self._writer is not None
        if self._writer is None:
            await self._connect()
        assert self._reader is not None and self._writer is not None
        length = len(body) if body is not None else (0 if method in ("POST", "PUT") else None)
        data = self._head(method, path, headers, length) + (body or b"")
        try:
            self._writer.write(data)
            if len(data) > 65536:
                await self._writer.drain()
            return await self._read_response(None)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self.close()
            nothing_read = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
            if reused and nothing_read:
                # The server closed a keep-alive connection that sat idle (uvicorn does
                # after 5 s): it never saw this request, so send it again on a new one.
                return await self.request(method, path, body, headers)
            raise

    async def upload(
        self, path: str, chunks: AsyncIterator[bytes], length: int, headers: bytes = b""
    ) -> tuple[int, bytes]:
        """PUT a body of known length, streamed from ``chunks``."""
        if self._writer is None:
            await self._connect()
        assert self._writer is not None
        self._writer.write(self._head("PUT", path, headers, length))
        async for chunk in chunks:
            self._writer.write(chunk)
            await self._writer.drain()
        return await self._read_response(None)

    async def download(self, path: str, sink: Callable[[bytes], None]) -> int:
        """GET a body and hand it piece by piece to ``sink``; returns the status."""
        if self._writer is None:
            await self._connect()
        assert self._writer is not None
        self._writer.write(self._head("GET", path, b"", None))
        status, _ = await self._read_response(sink)
        return status

    async def _read_response(self, sink: Callable[[bytes], None] | None) -> tuple[int, bytes]:
        reader = self._reader
        assert reader is not None
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        parts: list[bytes] = []
        emit = sink if sink is not None else parts.append
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                await _read_exactly(reader, size, emit)
                await reader.readexactly(2)
        elif length >= 0:
            await _read_exactly(reader, length, emit)
        else:
            while data := await reader.read(1 << 20):
                emit(data)
            close = True
        if close:
            self.close()
        return status, b"".join(parts)

    # -- conveniences for set-up calls (not used in the timed loops) ------------------------

    async def post_json(self, path: str, payload: object) -> dict:
        status, body = await self.request("POST", path, orjson.dumps(payload), JSON_HEADERS)
        if status != 200:
            raise HttpError(status, body, f"POST {path}")
        return orjson.loads(body) if body else {}

    async def get_json(self, path: str, params: dict | list | None = None) -> dict:
        url = path + ("?" + urlencode(params, doseq=True) if params else "")
        status, body = await self.request("GET", url)
        if status != 200:
            raise HttpError(status, body, f"GET {path}")
        return orjson.loads(body) if body else {}


async def _read_exactly(
    reader: asyncio.StreamReader, size: int, emit: Callable[[bytes], None]
) -> None:
    # Small bodies in one piece; large ones in 1 MiB pieces so a 1 GB download never sits
    # in the generator's memory.
    if size <= (1 << 20):
        emit(await reader.readexactly(size))
        return
    left = size
    while left:
        data = await reader.read(min(left, 1 << 20))
        if not data:
            raise asyncio.IncompleteReadError(b"", left)
        emit(data)
        left -= len(data)


async def open_pool(host: str, port: int, n: int) -> list[Connection]:
    conns = [Connection(host, port) for _ in range(n)]
    for conn in conns:
        await conn._connect()
    return conns
