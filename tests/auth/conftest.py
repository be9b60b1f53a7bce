"""An in-process trackd with authentication on, and a synchronous way to call it as anyone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest

from trackd.app import TrackdApp, create_app
from trackd.config import Settings

ADMIN = ("admin", "admin-password-123")
Creds = tuple[str, str] | str | None  # (user, password), a bearer token, or nobody


def write_auth_ini(path: Path, db_path: Path, default_permission: str = "READ") -> Path:
    path.write_text(
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = sqlite:///{db_path}\n"
        f"admin_username = {ADMIN[0]}\n"
        f"admin_password = {ADMIN[1]}\n"
    )
    return path


class AuthHarness:
    def __init__(self, app: TrackdApp, portal: Any) -> None:
        self.app = app
        self.portal = portal
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://trackd")

    def call(self, who: Creds, method: str, path: str, body: Any = None,
             **kw: Any) -> httpx.Response:
        url = path if path.startswith("/") else f"/api/2.0/mlflow/{path}"
        headers = dict(kw.pop("headers", {}))
        auth = None
        if isinstance(who, tuple):
            auth = httpx.BasicAuth(*who)
        elif isinstance(who, str):
            headers["Authorization"] = f"Bearer {who}"
        if method == "GET":
            kw["params"] = body
        elif body is not None:
            kw["json"] = body
        return self.portal.call(lambda: self.client.request(method, url, auth=auth,
                                                            headers=headers, **kw))

    def ok(self, who: Creds, method: str, path: str, body: Any = None) -> Any:
        resp = self.call(who, method, path, body)
        assert resp.status_code == 200, (method, path, resp.status_code, resp.text)
        return resp.json() if resp.content else {}

    def add_user(self, username: str) -> tuple[str, str]:
        creds = (username, f"{username}-password-123")
        self.ok(ADMIN, "POST", "users/create", {"username": creds[0], "password": creds[1]})
        return creds

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        auth = self.app.services.extra.get("auth")
        if auth is not None:
            auth.close()
        self.app.services.db.close()


@pytest.fixture
def auth_harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``with auth_harness(default_permission="READ") as h:``: a fresh app and databases."""

    @contextmanager
    def make(default_permission: str = "READ", **settings: Any) -> Iterator[AuthHarness]:
        ini = write_auth_ini(tmp_path / "basic_auth.ini", tmp_path / "auth.db",
                             default_permission)
        monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(ini))
        monkeypatch.delenv("MLFLOW_AUTH_ADMIN_USERNAME", raising=False)
        monkeypatch.delenv("MLFLOW_AUTH_ADMIN_PASSWORD", raising=False)
        app = create_app(Settings(
            backend_store_uri=settings.pop("backend_store_uri",
                                           f"sqlite:///{tmp_path / 'mlflow.db'}"),
            artifacts_destination=str(tmp_path / "artifacts"), auth=True, **settings))
        with anyio.from_thread.start_blocking_portal() as portal:
            harness = AuthHarness(app, portal)
            try:
                yield harness
            finally:
                harness.close()

    return make
