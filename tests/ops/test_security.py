"""Hardening: the Host check, CORS and security headers (as `mlflow server` 3.x), and the limits
on API request bodies. The Host check and the body limit are exercised over real HTTP against a
`trackd server` process; the CORS rules in-process."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from support.server import executable

from ops.conftest import trackd_process
from trackd.app import create_app
from trackd.config import ConfigError, Settings, settings_from_env

INVALID_HOST = "Invalid Host header - possible DNS rebinding attack detected"


def server_args(tmp_path: Path) -> list[str]:
    return ["--backend-store-uri", f"sqlite:///{tmp_path / 'm.db'}",
            "--artifacts-destination", str(tmp_path / "artifacts")]


def with_host(url: str, host: str, path: str, method: str = "GET", **kw: Any) -> httpx.Response:
    return httpx.request(method, url + path, headers={"Host": host, **kw.pop("headers", {})},
                         timeout=30, **kw)


# -- the Host check, over HTTP ------------------------------------------------------------------

SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"


def test_default_hosts_are_localhost_and_private_addresses(tmp_path: Path) -> None:
    with trackd_process(tmp_path, *server_args(tmp_path)) as server:
        for host in ("127.0.0.1", server.url.split("//")[1], "localhost:5000", "LOCALHOST",
                     "[::1]:5000", "10.1.2.3", "172.20.0.9:5000", "192.168.1.10:80",
                     "[fd12:3456::1]:5000"):
            resp = with_host(server.url, host, SEARCH)
            assert resp.status_code == 200, (host, resp.text)
            assert resp.headers["x-frame-options"] == "SAMEORIGIN"
            assert resp.headers["x-content-type-options"] == "nosniff"
        for host in ("evil.example.com", "10.evil.example.com", "172.32.0.1", "8.8.8.8:5000",
                     "[2001:db8::1]:5000", "127.0.0.1.evil.example.com"):
            resp = with_host(server.url, host, SEARCH)
            assert resp.status_code == 403, host
            body = resp.json()
            assert body["error_code"] == "PERMISSION_DENIED"
            assert body["message"].startswith(INVALID_HOST)
            assert "MLFLOW_SERVER_ALLOWED_HOSTS" in body["message"]
        # Writes are refused before they happen.
        refused = with_host(server.url, "evil.example.com", "/api/2.0/mlflow/experiments/create",
                            "POST", json={"name": "rebound"})
        assert refused.status_code == 403
        found = with_host(server.url, "localhost", "/api/2.0/mlflow/experiments/get-by-name",
                          params={"experiment_name": "rebound"})
        assert found.status_code == 404
        # Probes answer whatever name they use.
        for path in ("/health", "/ready", "/version"):
            assert with_host(server.url, "evil.example.com", path).status_code == 200, path
        assert with_host(server.url, "evil.example.com", "/metrics").status_code == 403
    log = server.log_text()
    assert "Host headers served: localhost, 127.0.0.1" in log  # the start-up line
    assert "evil.example.com" in log and "--allowed-hosts" in log  # each refused name


def test_platform_proxy_with_its_own_host_and_a_static_prefix(tmp_path: Path) -> None:
    """A data platform proxies /app/<project>/5000/ and forwards its own public Host."""
    prefix = "/app/p1/5000"
    env = {"MLFLOW_SERVER_ALLOWED_HOSTS": "platform.example.com, *.apps.example.com",
           "MLFLOW_SERVER_X_FRAME_OPTIONS": "deny"}
    with trackd_process(tmp_path, *server_args(tmp_path), "--static-prefix", prefix,
                        env=env, static_prefix=prefix) as server:
        api = prefix + SEARCH
        for host in ("platform.example.com", "platform.example.com:443",
                     "p1.apps.example.com"):
            resp = with_host(server.url, host, api)
            assert resp.status_code == 200, (host, resp.text)
            assert resp.headers["x-frame-options"] == "DENY"
        # An explicit list replaces the default: loopback is no longer served...
        assert with_host(server.url, "127.0.0.1", api).status_code == 403
        assert with_host(server.url, "apps.example.com", api).status_code == 403
        # ...but the container's health check still is.
        assert with_host(server.url, "127.0.0.1", prefix + "/health").text == "OK"
        # The MLflow client, calling by an address that is not listed, is told why.
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        with pytest.raises(MlflowException, match="Invalid Host header") as refused:
            MlflowClient(server.url + prefix).search_experiments()
        assert refused.value.error_code == "PERMISSION_DENIED"
        # The platform's UI posts to the API from its own origin: same-origin, never blocked.
        created = with_host(server.url, "platform.example.com",
                            prefix + "/ajax-api/2.0/mlflow/experiments/create", "POST",
                            json={"name": "from-the-ui"},
                            headers={"Origin": "https://platform.example.com"})
        assert created.status_code == 200, created.text


def test_the_flag_beats_the_environment_and_star_allows_any_host(tmp_path: Path) -> None:
    env = {"MLFLOW_SERVER_ALLOWED_HOSTS": "only.example.com"}
    with trackd_process(tmp_path, *server_args(tmp_path), "--allowed-hosts", "*",
                        "--x-frame-options", "NONE", env=env) as server:
        resp = with_host(server.url, "anything.example.net", SEARCH)
        assert resp.status_code == 200
        assert "x-frame-options" not in resp.headers


def test_security_middleware_can_be_disabled(tmp_path: Path) -> None:
    env = {"MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE": "true"}
    with trackd_process(tmp_path, *server_args(tmp_path), env=env) as server:
        resp = with_host(server.url, "evil.example.com", SEARCH)
        assert resp.status_code == 200
        assert "x-frame-options" not in resp.headers
        post = with_host(server.url, "localhost", "/api/2.0/mlflow/experiments/create", "POST",
                         json={"name": "x"}, headers={"Origin": "https://evil.example.com"})
        assert post.status_code == 200


def test_bad_settings_stop_the_server(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        settings_from_env({"MLFLOW_SERVER_X_FRAME_OPTIONS": "ALLOW-FROM https://x"})
    with pytest.raises(ConfigError):
        settings_from_env({"TRACKD_MAX_REQUEST_BODY_MB": "0"})
    assert settings_from_env({"MLFLOW_SERVER_CORS_ALLOWED_ORIGINS": " https://a.example , "
                              "https://*.b.example"}).cors_allowed_origins == (
        "https://a.example", "https://*.b.example")
    done = subprocess.run([executable("trackd"), "server", "--x-frame-options", "sometimes"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode != 0 and "X-Frame-Options" in done.stderr


# -- CORS, in-process ---------------------------------------------------------------------------


class Client:
    def __init__(self, app: Any, portal: Any) -> None:
        self.portal = portal
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                      base_url="http://trackd.test")

    def __call__(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self.http.request(method, url, **kw))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    opened: list[tuple[Any, Client]] = []

    def start(**settings: Any) -> Client:
        settings.setdefault("allowed_hosts", ("trackd.test",))  # the name the client uses
        app = create_app(Settings(backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
                                  artifacts_destination=str(tmp_path / "artifacts"), **settings))
        client = Client(app, portal)
        opened.append((app, client))
        return client

    with anyio.from_thread.start_blocking_portal() as portal:
        try:
            yield start
        finally:
            for app, client in opened:
                portal.call(client.http.aclose)
                app.services.db.close()


CREATE = "/api/2.0/mlflow/experiments/create"


def preflight(call: Client, origin: str, method: str = "POST") -> httpx.Response:
    return call("OPTIONS", CREATE, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type, authorization"})


def test_cors_default_allows_localhost_origins_only(serve: Any) -> None:
    call = serve()
    ok = preflight(call, "http://localhost:3000")
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert ok.headers["access-control-allow-headers"] == "content-type, authorization"
    refused = preflight(call, "https://evil.example.com")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    # A state-changing call from another site is blocked before it happens...
    blocked = call("POST", CREATE, json={"name": "csrf"},
                   headers={"Origin": "https://evil.example.com"})
    assert blocked.status_code == 403
    assert blocked.json() == {"error_code": "PERMISSION_DENIED",
                              "message": "Cross-origin request blocked"}
    assert call("GET", "/api/2.0/mlflow/experiments/get-by-name",
                params={"experiment_name": "csrf"}).status_code == 404
    # ...a read is answered, without CORS headers, so the browser keeps it from that site.
    read = call("GET", SEARCH, headers={"Origin": "https://evil.example.com"})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
    # localhost on any port, and the server's own origin (its web UI), may write.
    local = call("POST", CREATE, json={"name": "local"}, headers={"Origin": "http://127.0.0.1:8080"})
    assert local.status_code == 200
    assert local.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
    own = call("POST", CREATE, json={"name": "own-ui"}, headers={"Origin": "http://trackd.test"})
    assert own.status_code == 200
    # A request without Origin is not a browser's cross-site call: never blocked.
    assert call("POST", CREATE, json={"name": "script"}).status_code == 200


def test_cors_configured_origins(serve: Any) -> None:
    call = serve(cors_allowed_origins=("https://app.example.com", "https://*.tools.example.com"))
    for origin in ("https://app.example.com", "https://nb.tools.example.com"):
        resp = call("POST", CREATE, json={"name": origin}, headers={"Origin": origin})
        assert resp.status_code == 200, origin
        assert resp.headers["access-control-allow-origin"] == origin
        assert "Origin" in resp.headers["vary"]
        assert preflight(call, origin, "DELETE").status_code == 204
    for origin in ("https://app.example.com.evil.net", "http://app.example.com", "null"):
        resp = call("POST", CREATE, json={"name": origin}, headers={"Origin": origin})
        assert resp.status_code == 403, origin


def test_cors_star_allows_every_site_without_credentials(serve: Any) -> None:
    call = serve(cors_allowed_origins=("*",))
    resp = call("POST", CREATE, json={"name": "anyone"},
                headers={"Origin": "https://elsewhere.example"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in resp.headers
    assert preflight(call, "https://elsewhere.example").status_code == 204


def test_headers_are_on_every_answer(serve: Any) -> None:
    call = serve(x_frame_options="DENY")
    for method, path in (("GET", "/"), ("GET", "/health"), ("GET", "/no/such/page"),
                         ("POST", CREATE)):
        resp = call(method, path, json={} if method == "POST" else None)
        assert resp.headers["x-frame-options"] == "DENY", path
        assert resp.headers["x-content-type-options"] == "nosniff", path


# -- request body limits ------------------------------------------------------------------------


def test_body_size_limit_over_http(tmp_path: Path) -> None:
    with trackd_process(tmp_path, *server_args(tmp_path), "--max-request-body-mb", "1") as server:
        api = server.url + "/api/2.0/mlflow"
        with httpx.Client(timeout=60) as http:
            exp = http.post(f"{api}/experiments/create", json={"name": "limits"}).json()
            run = http.post(f"{api}/runs/create",
                            json={"experiment_id": exp["experiment_id"]}).json()
            run_id = run["run"]["info"]["run_id"]
            # A log-batch as large as MLflow takes (1,000 entities, under 1 MB) fits.
            metrics = [{"key": f"m{i % 10}", "value": i / 3, "timestamp": 1_700_000_000_000 + i,
                        "step": i} for i in range(800)]
            batch = {"run_id": run_id, "metrics": metrics,
                     "params": [{"key": f"p{i}", "value": "v" * 3500} for i in range(100)],
                     "tags": [{"key": f"t{i}", "value": "w" * 3500} for i in range(100)]}
            resp = http.post(f"{api}/runs/log-batch", json=batch)
            assert resp.status_code == 200, resp.text

            big = json.dumps({"name": "x" * (2 * 1024 * 1024)}).encode()
            resp = http.post(f"{api}/experiments/create", content=big,
                             headers={"Content-Type": "application/json"})
            assert resp.status_code == 400
            assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
            assert "TRACKD_MAX_REQUEST_BODY_MB" in resp.json()["message"]

            def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
                yield b'{"name": "'
                for _ in range(40):
                    yield b"y" * 65536
                yield b'"}'

            resp = http.post(f"{api}/experiments/create", content=chunked(),
                             headers={"Content-Type": "application/json"})
            assert resp.status_code == 400
            assert "TRACKD_MAX_REQUEST_BODY_MB" in resp.json()["message"]
            # The connection and the server carry on.
            again = http.get(f"{api}/experiments/search", params={"max_results": 1})
            assert again.status_code == 200
            # Artifact uploads stream to the store and are not limited.
            upload = http.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/big/file.bin",
                              content=b"z" * (3 * 1024 * 1024))
            assert upload.status_code == 200, upload.text
            assert (tmp_path / "artifacts" / "big" / "file.bin").stat().st_size == 3 * 1024 * 1024


def nested(depth: int) -> dict[str, Any]:
    """An experiments/create body whose JSON nests ``depth`` levels (the body itself is one)."""
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return {"name": f"depth-{depth}", "unused": value}


def test_json_depth_limit(serve: Any) -> None:
    call = serve()
    assert call("POST", CREATE, json=nested(64)).status_code == 200
    for depth in (65, 300, 5000):
        resp = call("POST", CREATE, json=nested(depth)) if depth < 1000 else call(
            "POST", CREATE, content=b'{"a": ' + b"[" * depth + b"]" * depth + b"}",
            headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, depth
        assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "deeper than 64 levels" in resp.json()["message"]


def test_body_limit_comes_before_authentication(serve: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Authentication reads JSON bodies whole to find their experiment: the limit stops a body
    (even one without a declared length) before that."""
    from auth.conftest import ADMIN, write_auth_ini

    ini = write_auth_ini(tmp_path / "basic_auth.ini", tmp_path / "auth.db")
    monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(ini))
    call = serve(auth=True, max_request_body_mb=1)
    auth = httpx.BasicAuth(*ADMIN)

    async def chunks() -> Any:
        yield b'{"experiment_id": "0", "name": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    for content in (chunks(), b'{"name": "' + b"y" * (2 * 1024 * 1024) + b'"}'):
        resp = call("POST", "/api/2.0/mlflow/runs/create", content=content, auth=auth,
                    headers={"Content-Type": "application/json"})
        assert resp.status_code == 400
        assert "TRACKD_MAX_REQUEST_BODY_MB" in resp.json()["message"]
    assert call("POST", CREATE, json={"name": "fine"}, auth=auth).status_code == 200


def test_without_a_host_check_only_listed_origins_may_write(serve: Any) -> None:
    """With every Host allowed, a DNS-rebinding page (Host and Origin both the attacker's name)
    would look same-origin: then only localhost and the configured origins may write."""
    call = serve(allowed_hosts=("*",), cors_allowed_origins=("https://ui.example.com",))
    rebound = call("POST", CREATE, json={"name": "rebound"}, headers={
        "Host": "attacker.example", "Origin": "http://attacker.example"})
    assert rebound.status_code == 403
    listed = call("POST", CREATE, json={"name": "listed"}, headers={
        "Host": "ui.example.com", "Origin": "https://ui.example.com"})
    assert listed.status_code == 200
