"""The real app in-process: httpx over ASGI, driven from synchronous tests.

    with in_process(Settings(...)) as served:
        served.client.get("/health")

One long-lived event loop (an anyio blocking portal) runs the app and the client; on exit the
client is closed and the app's database released.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio.from_thread
import httpx

from trackd.app import TrackdApp, create_app
from trackd.config import Settings


class SyncClient:
    """httpx over ASGI, driven from synchronous tests through one long-lived event loop."""

    def __init__(self, app: Any, portal: Any) -> None:
        self._portal = portal
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://trackd.test"
        )

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self._portal.call(lambda: self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def close(self) -> None:
        self._portal.call(self._client.aclose)


@dataclass
class InProcess:
    app: TrackdApp
    client: SyncClient
    portal: Any


@contextmanager
def in_process(settings: Settings) -> Iterator[InProcess]:
    app = create_app(settings)
    with anyio.from_thread.start_blocking_portal() as portal:
        client = SyncClient(app, portal)
        try:
            yield InProcess(app, client, portal)
        finally:
            client.close()
            app.services.db.close()
