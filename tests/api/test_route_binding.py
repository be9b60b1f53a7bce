"""The route table names handlers lazily (router.Lazy): a misspelt name would only show on the
route's first request, so every entry is resolved here, and binding is checked to happen once."""

from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path

import pytest
from starlette.requests import Request

from trackd.api.router import Lazy, Route, Router
from trackd.api.routes import api_routes
from trackd.app import _LAZY, build_services, open_database
from trackd.config import Settings


def test_every_route_names_an_existing_async_handler() -> None:
    bad = []
    for route in api_routes():
        assert isinstance(route.handler, Lazy), route
        try:
            handler = route.handler.load()
        except (ImportError, AttributeError) as exc:
            bad.append(f"{route.method} {route.path}: {exc}")
            continue
        if not inspect.iscoroutinefunction(handler):
            bad.append(f"{route.method} {route.path}: {handler!r} is not async")
    assert bad == []


async def _ok(call: object) -> dict[str, str]:
    return {"ok": "yes"}


def _request(path: str, method: str = "GET") -> Request:
    return Request({"type": "http", "method": method, "path": path, "query_string": b"",
                    "headers": []})


def test_a_lazy_handler_is_bound_once_in_every_slot_naming_it() -> None:
    lazy = Lazy(__name__, "_ok")
    router = Router([Route("GET", "/a", lazy), Route("GET", "/b/{x}", lazy),
                     Route("POST", "/a", lazy)], services=None)
    response = asyncio.run(router.dispatch(_request("/a"), "/a"))
    assert response.status_code == 200 and response.body == b'{"ok":"yes"}'
    # The first call put the function itself wherever the table named it: no Lazy is left
    # for later requests to go through.
    a, b = router.resolve("/a"), router.resolve("/b/1")
    assert a is not None and a[0] == {"GET": _ok, "POST": _ok}
    assert b is not None and b[0] == {"GET": _ok}
    assert asyncio.run(router.dispatch(_request("/b/1", "HEAD"), "/b/1")).status_code == 200


@pytest.mark.parametrize("name", sorted(_LAZY))
def test_each_lazy_service_builds_first_on_a_fresh_process(name: str, tmp_path: Path) -> None:
    # Some services are built from others (artifact transfers from artifacts, logged models
    # from runs): built first, each must build what it needs without waiting on itself.
    settings = Settings(backend_store_uri=f"sqlite:///{tmp_path / 'lazy.db'}",
                        artifacts_destination=str(tmp_path / "artifacts"))
    db = open_database(settings)
    try:
        services = build_services(settings, db)
        outcome: list[object] = []
        worker = threading.Thread(target=lambda: outcome.append(getattr(services, name)),
                                  daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), f"building {name} never finished"
        assert outcome and getattr(services, name) is outcome[0]
        assert name in vars(services)  # an ordinary attribute from now on
    finally:
        db.close()
