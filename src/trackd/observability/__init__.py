"""Production layers around the app: metrics and access logs, security, ``/ready``, and
authentication.

:func:`install` builds the stack once per app, outermost first::

    RequestObserver (count, time, JSON access log) -> SecurityMiddleware (Host, CORS, headers)
        -> RequestBodyLimit -> AuthMiddleware (when on) -> OpsEndpoints (/ready, /metrics)
        -> the app's own dispatch

The security layer sits inside the observer, so refused requests are counted and logged like
any other, and outside authentication, because browsers send CORS preflights without
credentials. The body limit comes before authentication, which reads JSON bodies whole.
"""

from __future__ import annotations

from typing import Any

from trackd.api.routes import api_routes
from trackd.http_timeouts import BodyTimeout
from trackd.observability.metrics import Metrics
from trackd.observability.middleware import OpsEndpoints, RequestObserver
from trackd.request_limits import MIB, RequestBodyLimit
from trackd.security import SecurityMiddleware

__all__ = ["Metrics", "OpsEndpoints", "RequestObserver", "install"]


def install(app: Any) -> None:
    """Wrap ``app.entry`` (a :class:`trackd.app.TrackdApp`) in the production layers."""
    from trackd.store import schema

    settings, services = app.settings, app.services
    metrics = Metrics(services.db, api_routes())
    services.extra["metrics"] = metrics
    if (dispatcher := services.extra.get("webhook_dispatcher")) is not None:
        dispatcher.on_outcome = lambda event, outcome: metrics.webhook_deliveries.labels(
            event, outcome).inc()
    auth = None
    if settings.auth:
        from trackd.auth import open_auth, read_auth_config

        auth = open_auth(read_auth_config(), services.db)
        services.extra["auth"] = auth
    entry: Any = OpsEndpoints(app.entry, metrics, services.db, static_prefix=settings.static_prefix,
                              expected_revision=schema.HEAD,
                              extra_ready=None if auth is None else auth.db)
    if auth is not None:
        from trackd.auth import AuthMiddleware

        router = app.router

        def served(path: str) -> bool:
            return router.resolve(path) is not None

        entry = AuthMiddleware(entry, auth, settings.static_prefix, served=served)
    entry = RequestBodyLimit(entry, settings.max_request_body_mb * MIB)
    entry = BodyTimeout(entry, settings.body_timeout)
    if not settings.disable_security_middleware:
        entry = SecurityMiddleware(entry, settings)
    app.entry = RequestObserver(entry, metrics, static_prefix=settings.static_prefix,
                                json_access_log=settings.access_log_format == "json")
