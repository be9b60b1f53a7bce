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
from trackd.api._http import Fields, error_response, json_response, read_fields
from trackd.errors import INTERNAL_ERROR, MlflowError

log = logging.getLogger("trackd.api")


class Call:
    """One request as a handler sees it: fields, path parameters and the app's services."""

    __slots__ = ("request", "services", "params", "_fields")

    def __init__(self, request: Request, services: Any, params: dict[str, str]) -> None:
        self.request = request
        self.services = services
        self.params = params
        self._fields: Fields | None = None

    async def fields(self) -> Fields:
        if self._fields is None:
            self._fields = await read_fields(self.request)
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
        request = Request(scope, receive)
        response = await self.dispatch(request, scope["path"])
        await response(scope, receive, send)

    async def dispatch(self, request: Request, path: str) -> Response:
        found = self.resolve(path)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        methods, params = found
        method = request.method
        handler = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
        if handler is None:
            return PlainTextResponse(
                "Method Not Allowed",
                status_code=405,
                headers={"Allow": ", ".join(sorted(methods))},
            )
        try:
            if nul.any_has_nul(params.values()):
                raise nul.refused("request path")
            if isinstance(handler, Lazy):
                handler = self._bind(handler)
            result = await handler(Call(request, self.services, params))
        except MlflowError as exc:
            return error_response(exc)
        except ClientDisconnect:
            # The client hung up while sending its request: nobody reads an answer, and a
            # traceback per hang-up would let any client flood the log. The access log has it.
            log.debug("client disconnected during %s %s", method, path)
            return Response(status_code=400)
        except Exception:
            log.exception("unhandled error in %s %s", method, path)
            return error_response(
                MlflowError(
                    "Internal error while handling the request; see the server log.", INTERNAL_ERROR
                )
            )
        if isinstance(result, Response):
            return result
        return json_response({} if result is None else result)
