"""Dispatch: (method, path) to handler, with MLflow's answers for everything that goes wrong.

Routes are looked up in a dict first (almost every MLflow route is a fixed path) and only
then matched against the few patterns with placeholders, so the cost of routing does not grow
with the size of the API. Unknown paths get a plain-text 404: MLflow's client turns exactly
that into ``ENDPOINT_NOT_FOUND``, which it uses to fall back to older endpoints.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from trackd.api import nul
from trackd.api._http import (
    Fields,
    content_type,
    error_body,
    json_body,
    parse_body_fields,
    read_body,
    read_fields,
    send_json,
)
from trackd.errors import INTERNAL_ERROR, MlflowError

log = logging.getLogger("trackd.api")


class Call:
    """One request as a handler sees it: fields, path parameters and the app's services.

    The Starlette ``Request`` is made only for a handler that asks for it (headers, query
    string, a file to send): a JSON call reads its body straight from ``receive``, which spares
    the request object, its header map and its body stream on every small request.
    """

    __slots__ = ("scope", "receive", "services", "params", "_fields", "_request", "_body")

    def __init__(self, scope: Scope, receive: Receive, services: Any, params: dict[str, str],
                 request: Request | None = None) -> None:
        self.scope = scope
        self.receive = receive
        self.services = services
        self.params = params
        self._fields: Fields | None = None
        self._request = request
        self._body: bytes | None = None

    @property
    def request(self) -> Request:
        if self._request is None:
            self._request = Request(self.scope, self.receive)
            if self._body is not None:  # already read here: the request must not wait for it
                self._request._body = self._body
        return self._request

    async def body(self) -> bytes:
        """The whole request body (read once, by whichever of this and ``request`` comes first)."""
        if self._request is not None:
            return await self._request.body()
        if self._body is None:
            self._body = await read_body(self.receive)
        return self._body

    async def fields(self) -> Fields:
        if self._fields is None:
            if self.scope["method"] == "GET":
                self._fields = await read_fields(self.request)
            else:
                self._fields = parse_body_fields(await self.body(), content_type(self.scope))
        return self._fields


Handler = Callable[[Call], Awaitable[Any]]


class Lazy:
    """A handler named by module and function, imported on its route's first request.

    The route table names ~300 routes over ~20 handler modules (and, through them, the services
    and stores): importing them all at start-up cost ~3 MiB and ~75 ms of CPU that a server using
    a few resources never needed. The router swaps a Lazy for the function it names on the first
    call, so later requests pay nothing for it.
    """

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def load(self) -> Handler:
        handler: Handler = getattr(importlib.import_module(self.module), self.name)
        return handler

    def __repr__(self) -> str:
        return f"Lazy({self.module}.{self.name})"


class HandlerModule:
    """``mod.func`` in the route table gives ``Lazy("trackd.api.mod", "func")``."""

    def __init__(self, name: str) -> None:
        self._module = f"trackd.api.{name}"

    def __getattr__(self, name: str) -> Lazy:
        if name.startswith("__"):  # copy, pickle and friends probe dunders: not handlers
            raise AttributeError(name)
        return Lazy(self._module, name)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # may hold {name} or {name:path} placeholders
    handler: Handler | Lazy


_PLACEHOLDER = re.compile(r"\{(\w+)(:path)?\}")


def compile_path(path: str) -> re.Pattern[str]:
    """A route path with ``{name}`` / ``{name:path}`` placeholders as an anchored regex."""
    pattern, last = "", 0
    for match in _PLACEHOLDER.finditer(path):
        pattern += re.escape(path[last : match.start()])
        pattern += f"(?P<{match.group(1)}>.+)" if match.group(2) else f"(?P<{match.group(1)}>[^/]+)"
        last = match.end()
    # DOTALL and \Z: a parameter may hold any character, a newline included (a '$' would also
    # match before a trailing newline, and '.' would stop at one).
    return re.compile("^" + pattern + re.escape(path[last:]) + r"\Z", re.DOTALL)


class Router:
    """An ASGI app serving a route table; the ``path`` it sees has the static prefix removed."""

    def __init__(self, routes: list[Route], services: Any) -> None:
        self.services = services
        self._exact: dict[str, dict[str, Handler | Lazy]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, Handler | Lazy]]] = []
        by_pattern: dict[str, dict[str, Handler | Lazy]] = {}
        for route in routes:
            if "{" in route.path:
                by_pattern.setdefault(route.path, {})[route.method] = route.handler
            else:
                self._exact.setdefault(route.path, {})[route.method] = route.handler
        # Longer literal prefixes first, so '/x/{id}/tags' wins over '/x/{id:path}'.
        for path in sorted(by_pattern, key=lambda p: -len(p.split("{")[0])):
            self._patterns.append((compile_path(path), by_pattern[path]))

    def resolve(self, path: str) -> tuple[dict[str, Handler | Lazy], dict[str, str]] | None:
        methods = self._exact.get(path)
        if methods is not None:
            return methods, {}
        for pattern, methods in self._patterns:
            match = pattern.match(path)
            if match:
                return methods, match.groupdict()
        return None

    def _bind(self, lazy: Lazy) -> Handler:
        """Import ``lazy``'s handler and put it in every slot naming it (the same entry of the
        table is served under several prefixes), so this runs once per handler."""
        handler = lazy.load()
        for methods in [*self._exact.values(), *(m for _, m in self._patterns)]:
            for method, bound in methods.items():
                if bound is lazy:
                    methods[method] = handler
        return handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self._answer(scope, receive, scope["path"], None)
        if isinstance(answer, Response):
            await answer(scope, receive, send)
        else:
            await send_json(send, *answer)

    async def dispatch(self, request: Request, path: str) -> Response:
        """The answer as a Starlette ``Response`` (tests, and callers that hold a request)."""
        answer = await self._answer(request.scope, request.receive, path, request)
        if isinstance(answer, Response):
            return answer
        status, body = answer
        return Response(body, status_code=status, media_type="application/json")

    async def _answer(self, scope: Scope, receive: Receive, path: str,
                      request: Request | None) -> Response | tuple[int, bytes]:
        """A handler's own ``Response``, or a JSON answer as (status, body), which ``__call__``
        sends as its two ASGI messages without building a response object."""
        found = self.resolve(path)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        methods, params = found
        method = scope["method"]
        handler = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
        if handler is None:
            return PlainTextResponse(
                "Method Not Allowed",
                status_code=405,
                headers={"Allow": ", ".join(sorted(methods))},
            )
        try:
            if params and nul.any_has_nul(params.values()):
                raise nul.refused("request path")
            if isinstance(handler, Lazy):
                handler = self._bind(handler)
            result = await handler(Call(scope, receive, self.services, params, request))
        except MlflowError as exc:
            return error_body(exc)
        except ClientDisconnect:
            # The client hung up while sending its request: nobody reads an answer, and a
            # traceback per hang-up would let any client flood the log. The access log has it.
            log.debug("client disconnected during %s %s", method, path)
            return Response(status_code=400)
        except Exception:
            log.exception("unhandled error in %s %s", method, path)
            return error_body(
                MlflowError(
                    "Internal error while handling the request; see the server log.", INTERNAL_ERROR
                )
            )
        if isinstance(result, Response):
            return result
        return 200, json_body({} if result is None else result)
