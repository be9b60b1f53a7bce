"""Authentication and permissions, compatible with MLflow's basic-auth app (off by default).

``trackd server --app-name basic-auth`` (or ``--auth``, or ``TRACKD_AUTH=true``) wraps the app in
:class:`~trackd.auth.middleware.AuthMiddleware`; see docs/operations.md.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from trackd.auth.config import AuthConfig, read_auth_config
from trackd.auth.middleware import AuthMiddleware
from trackd.auth.service import AuthService, open_auth
from trackd.store.database import Database

__all__ = ["AuthConfig", "AuthMiddleware", "AuthService", "open_auth", "read_auth_config",
           "wrap_with_auth"]


def wrap_with_auth(app: ASGIApp, tracking_db: Database, static_prefix: str = "",
                   config: AuthConfig | None = None) -> AuthMiddleware:
    service = open_auth(config or read_auth_config(), tracking_db)
    return AuthMiddleware(app, service, static_prefix)
