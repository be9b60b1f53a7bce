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
        self._restart = False  # a request began in the piece being parsed, headers incomplete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # A request that began in this piece of data and whose headers are still incomplete
        # gets a fresh deadline. Arming it here, after the parser, rather than as the request
        # begins spares a timer (made and cancelled) for the usual request whose headers come
        # whole in one piece: the deadline is the same, give or take the parsing of one piece.
        if self._restart:
            self._restart = False
            if not self.transport.is_closing():
                self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._restart = True

    def on_headers_complete(self) -> None:
        self._restart = False
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

    No timer per request, nor per piece: an upload brings thousands of pieces (a cancel scope
    per wait, anyio.move_on_after, cost ~30 µs each, half of the Python time of a large
    upload), and a small JSON request would make and cancel a timer for a body that has
    already arrived. Each wait only notes when it began, in one table of the event loop's
    waits (:class:`_Stalls`), whose single timer cancels the waits that are overdue.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._stalls: _Stalls | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        stalls = self._stalls
        if stalls is None or stalls.loop is not asyncio.get_running_loop():
            # Per event loop (tests run apps on several); a wait keeps the table it began in.
            stalls = self._stalls = _Stalls(self.seconds)
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal body_done
            if body_done:  # later waits (for a disconnect while streaming out) are unbounded
                return await receive()
            message = await stalls.wait(receive)
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, bounded_receive, send)


class _Stalls:
    """The body waits in progress on one event loop, oldest first, and one timer for the oldest.

    Waits begin in time order, so the table (a dict keeps insertion order) is ordered by
    deadline: the timer looks at the head only, cancels what is overdue and sets itself for
    the next deadline. A wait that ends leaves the table; the timer, if set for it, finds a
    later head when it fires and waits again.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.loop = asyncio.get_running_loop()
        self.waits: dict[asyncio.Task[Any], float] = {}  # task -> when its current wait began
        self.expired: set[asyncio.Task[Any]] = set()
        self.timer: asyncio.TimerHandle | None = None

    async def wait(self, receive: Receive) -> Message:
        task = asyncio.current_task()
        assert task is not None
        since = self.loop.time()
        self.waits[task] = since  # a task waits for one piece at a time: a new key, at the end
        if self.timer is None:
            self.timer = self.loop.call_at(since + self.seconds, self._check)
        try:
            return await receive()
        except asyncio.CancelledError:
            if task not in self.expired:
                raise  # a cancellation from elsewhere (shutdown): not ours to turn into 400
            task.uncancel()
            raise ClientDisconnect() from None  # stalled: handled as a client that hung up
        finally:
            self.waits.pop(task, None)
            self.expired.discard(task)

    def _check(self) -> None:
        self.timer = None
        now = self.loop.time()
        while self.waits:
            task, since = next(iter(self.waits.items()))
            if since + self.seconds > now:
                self.timer = self.loop.call_at(since + self.seconds, self._check)
                return
            del self.waits[task]
            self.expired.add(task)
            task.cancel()
