"""Read timeouts for HTTP connections: how long a client may take to send a request.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits forever for a
request's headers and for the next piece of its body, so a few hundred clients that open a
connection and never finish a request hold as many file descriptors for as long as they like
(issue 12: 400 such connections were still open after 25 s). Two guards close that:

- :class:`HeaderTimeoutProtocol`, uvicorn's httptools protocol with a timer from the moment a
  connection opens, or a new request on it begins, until that request's headers are complete;
  at the deadline the connection is closed without an answer.
- :class:`BodyTimeout`, an ASGI layer that bounds each wait for the next piece of a request
  body; a client that stalls longer is treated as one that hung up (the handlers' quiet path).

Both durations are server flags (``--header-timeout``, ``--body-timeout``), documented in
docs/operations.md with the advice for deployments behind a proxy.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackd.http_body import PassThroughBodyProtocol

DEFAULT_HEADER_TIMEOUT = 30.0
DEFAULT_BODY_TIMEOUT = 60.0


class HeaderTimeoutProtocol(PassThroughBodyProtocol):
    """Handed to uvicorn as ``http=functools.partial(HeaderTimeoutProtocol, header_timeout=s)``
    (a partial pickles into worker processes, so the setting travels with the config)."""

    def __init__(self, *args: Any, header_timeout: float = DEFAULT_HEADER_TIMEOUT,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if self.header_timeout > 0:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expired(self) -> None:
        self._header_deadline = None
        # A connection between requests is the keep-alive timer's business; this one is
        # waiting for headers that did not come (or came too slowly).
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


class BodyTimeout:
    """Each wait for the next piece of a request body ends after ``seconds``.

    One timer per request, not one per piece: an upload brings thousands of pieces, and a
    cancel scope per wait (anyio.move_on_after) cost ~30 µs each, half of the Python time of a
    large upload. Each wait only notes when it began; the timer, when it fires, cancels a wait
    that is overdue, or sets itself again for the rest of the current one.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        watch = _StallWatch(self.seconds)
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal body_done
            if body_done:  # later waits (for a disconnect while streaming out) are unbounded
                return await receive()
            message = await watch.wait(receive)
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        try:
            await self.app(scope, bounded_receive, send)
        finally:
            watch.close()


class _StallWatch:
    """Cancels the task waiting for a body piece once that one wait has lasted ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.loop = asyncio.get_running_loop()
        self.timer: asyncio.TimerHandle | None = None
        self.waiter: asyncio.Task[Any] | None = None
        self.since = 0.0
        self.expired = False

    async def wait(self, receive: Receive) -> Message:
        self.waiter = asyncio.current_task()
        self.since = self.loop.time()
        if self.timer is None:
            self.timer = self.loop.call_at(self.since + self.seconds, self._check)
        try:
            return await receive()
        except asyncio.CancelledError:
            if not self.expired or self.waiter is None:
                raise  # a cancellation from elsewhere (shutdown): not ours to turn into 400
            self.waiter.uncancel()
            raise ClientDisconnect() from None  # stalled: handled as a client that hung up
        finally:
            self.waiter = None

    def _check(self) -> None:
        self.timer = None
        if self.waiter is None:
            return  # not waiting for the body now; the next wait sets the timer again
        deadline = self.since + self.seconds
        if self.loop.time() >= deadline:
            self.expired = True
            self.waiter.cancel()
        else:
            self.timer = self.loop.call_at(deadline, self._check)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
