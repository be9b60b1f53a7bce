"""Per-request bookkeeping (outermost layer) and the ``/ready`` + ``/metrics`` endpoints.

:class:`RequestObserver` wraps everything, authentication included, so 401s are counted too.
Its cost per request is one route-name lookup (a dict hit for fixed paths), one dict lookup
for the labelled series (cached per method, route and status) and a histogram observation.
Bodies are never parsed here: handlers note the metric points they stored in the request state,
and artifact transfers are summed by chunk length.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
import orjson
import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackd.api._http import POINTS_STATE_KEY, json_response
from trackd.observability.metrics import Metrics
from trackd.store.database import Database

access_log = logging.getLogger("trackd.access")

_READY_TIMEOUT = 5.0
_ARTIFACT_ROUTES = ("/mlflow-artifacts/artifacts/{artifact_path:path}", "/get-artifact",
                    "/artifacts/files")


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics, *, static_prefix: str = "",
                 json_access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.prefix = static_prefix
        self.json_access_log = json_access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):] or "/"
        route = self.metrics.routes.name(path)
        method = scope["method"]
        status = 500
        sent_bytes = 0
        counting = route.endswith(_ARTIFACT_ROUTES)
        uploaded = 0
        # Handlers that ingest metric points say how many in the request state (scope["state"]
        # is shared by every copy of the scope made further in).
        state = scope.setdefault("state", {})

        async def observed_receive() -> Message:
            nonlocal uploaded
            message = await receive()
            if counting and message["type"] == "http.request":
                uploaded += len(message.get("body", b""))
            return message

        async def observed_send(message: Message) -> None:
            nonlocal status, sent_bytes
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, observed_receive if counting else receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.request_done(method, route, status, elapsed)
            if status == 200:
                self._count_ingest(method, state.get(POINTS_STATE_KEY, 0), sent_bytes, counting)
            if counting and method == "PUT" and uploaded:
                self.metrics.artifact_bytes.labels("upload").inc(uploaded)
            if self.json_access_log:
                self._log(scope, route, status, elapsed, sent_bytes)

    def _count_ingest(self, method: str, points: int, sent: int, artifact: bool) -> None:
        if points:
            self.metrics.metric_points.inc(points)
        elif artifact and method == "GET":
            self.metrics.artifact_bytes.labels("download").inc(sent)

    def _log(self, scope: Scope, route: str, status: int, elapsed: float, sent: int) -> None:
        client = scope.get("client")
        record: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
            "method": scope["method"],
            "path": scope.get("root_path", "") + scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "bytes": sent,
            "client": client[0] if client else None,
        }
        user = (scope.get("state") or {}).get("trackd_user")
        if user:
            record["user"] = user
        access_log.info(orjson.dumps(record).decode())


class OpsEndpoints:
    """Answers ``/ready`` and ``/metrics`` in front of the app (inside authentication)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, db: Database, *, static_prefix: str = "",
                 expected_revision: str | None = None, extra_ready: Any = None) -> None:
        self.app = app
        self.metrics = metrics
        self.db = db
        self.prefix = static_prefix
        self.expected_revision = expected_revision
        self.extra_ready = extra_ready  # another Database that must answer (the auth DB)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if self.prefix:
            # One rule (docs/operations.md): every endpoint lives under the static prefix, and
            # the two probes a load balancer calls, /health and /ready, also at the root.
            if path.startswith(self.prefix + "/"):
                path = path[len(self.prefix):]
            elif path == "/health":
                await PlainTextResponse("OK")(scope, receive, send)
                return
            elif path != "/ready":
                path = ""  # outside the prefix: the app answers (404)
        if path == "/metrics":
            body = generate_latest(self.metrics.registry)
            await Response(body, media_type=CONTENT_TYPE_LATEST)(scope, receive, send)
        elif path == "/ready":
            problem = await self.readiness()
            reply = {"status": "ready"} if problem is None else {"status": "unavailable",
                                                                  "reason": problem}
            await json_response(reply, 200 if problem is None else 503)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def readiness(self) -> str | None:
        """None when the database answers and holds the schema this server serves."""
        try:
            with anyio.fail_after(_READY_TIMEOUT):
                found = await self.db.read(_revision)
                if self.extra_ready is not None:
                    await self.extra_ready.read(lambda c: c.execute(sa.text("SELECT 1")))
        except TimeoutError:
            return "the database did not answer in time"
        except Exception as exc:  # any failure to answer is "not ready", with the reason
            return f"the database is unreachable: {getattr(exc, 'message', exc)}"
        if self.expected_revision and found != self.expected_revision and not self.db.read_only:
            return f"schema revision {found!r}, expected {self.expected_revision!r}"
        return None


def _revision(conn: sa.Connection) -> str | None:
    return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
