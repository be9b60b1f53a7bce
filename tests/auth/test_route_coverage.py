"""Every route in the route table refuses a caller without credentials (server-info excepted)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from trackd.api.routes import api_routes
from trackd.auth import rules

# MLflow leaves these open on a basic-auth server, and so does trackd.
OPEN_ROUTES = {"/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: "1/x" if m.group(2) else "x", path)


def test_no_route_answers_without_credentials(auth_harness: Any) -> None:
    routes = api_routes()
    assert len(routes) > 50  # the whole table, not a stub
    with auth_harness() as h:
        for index, route in enumerate(routes):
            path = concrete(route.path)
            resp = h.call(None, route.method, path, None if route.method == "GET" else {})
            if route.path in OPEN_ROUTES:
                assert resp.status_code == 200, route
                continue
            assert resp.status_code == 401, (route.method, route.path, resp.status_code)
            assert resp.headers["WWW-Authenticate"] == 'Basic realm="mlflow"'
            if index % 15 == 0:  # a wrong password costs a deliberate ~0.1-0.3 s hash check
                bad = h.call(("admin", "wrong-password-000"), route.method, path, {})
                assert bad.status_code == 401, (route.method, route.path)


@pytest.mark.parametrize("path", ["/", "/metrics", "/version", "/static-files/app.js",
                                  "/graphql", "/api/2.0/mlflow/users/get"])
def test_ui_and_extras_need_credentials(auth_harness: Any, path: str) -> None:
    with auth_harness() as h:
        assert h.call(None, "GET", path).status_code == 401


def test_probes_stay_open(auth_harness: Any) -> None:
    with auth_harness() as h:
        assert h.call(None, "GET", "/health").status_code == 200
        assert h.call(None, "GET", "/ready").status_code == 200


def test_every_route_has_a_rule() -> None:
    """A route without a rule is admin-only (fail closed); this keeps that deliberate."""
    missing = sorted({(r.method, r.path) for r in api_routes()
                      if rules.find_rule(r.method, concrete(r.path)) is None})
    assert not missing, f"routes without a permission rule (admins only): {missing}"
