"""Request bodies handed from uvicorn's parser to the app without being copied twice.

uvicorn's httptools protocol appends every piece of a request body to a ``bytearray`` and makes
a ``bytes`` copy of it when the app asks for the next message: two copies of every byte in
Python, on the event loop, for each ~256 KiB piece of an upload (most of the CPU a ``curl -T``
of a large artifact cost trackd, beside the kernel's own copy into the page cache).

Here the buffer starts as ``b""`` instead: ``b"" + piece`` is ``piece`` itself (CPython returns
the other operand of an empty concatenation), and ``bytes(piece)`` in uvicorn's ``receive()``
returns it unchanged, so a piece that arrives while the app waits goes through untouched. When
several pieces queue up before the app reads them they are joined (one copy), as before; the
flow control (reading pauses past 64 KiB) is uvicorn's, unchanged.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class PassThroughBodyProtocol(HttpToolsProtocol):
    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if not cycle.body:
            # Empty (a fresh request, or just drained by receive(), which leaves a bytearray).
            cycle.body = b""  # type: ignore[assignment]
        super().on_body(body)
