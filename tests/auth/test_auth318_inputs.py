"""Bad input to MLflow 3.18's grant and role routes: MLflow's 400/404, never a traceback."""

from __future__ import annotations

from typing import Any

from auth.conftest import ADMIN

V3 = "/api/3.0/mlflow/"


def test_bad_role_and_grant_input_is_refused_cleanly(auth_harness: Any) -> None:
    with auth_harness() as h:
        h.add_user("alice")
        role = h.ok(ADMIN, "POST", V3 + "roles/create", {"name": "r"})["role"]
        assert role["workspace"] == "default"  # MLflow's default workspace when none is named
        cases: list[tuple[str, str, Any, int]] = [
            ("POST", "roles/create", {"name": {"x": 1}}, 400),
            ("POST", "roles/create", {"name": "r2", "description": 5}, 400),
            ("PATCH", "roles/update", {"role_id": True}, 400),
            ("DELETE", "roles/delete", {"role_id": {"id": 1}}, 400),
            ("POST", "roles/permissions/add", {"role_id": role["id"],
                                               "resource_type": "gateway_secret",
                                               "resource_pattern": "s", "permission": "READ"},
             400),
            ("POST", "roles/permissions/add", {"role_id": role["id"], "resource_type": "run",
                                               "resource_pattern": "r1", "permission": "READ"},
             400),
            ("POST", "roles/permissions/add", {"role_id": role["id"],
                                               "resource_type": "workspace",
                                               "resource_pattern": "ws1", "permission": "USE"},
             400),
            ("POST", "roles/permissions/add", {"role_id": 999, "resource_type": "experiment",
                                               "resource_pattern": "1", "permission": "READ"},
             404),
            ("PATCH", "roles/permissions/update", {"role_permission_id": 999,
                                                   "permission": "READ"}, 404),
            ("POST", "roles/assign", {"username": "nobody", "role_id": role["id"]}, 404),
            ("POST", "users/permissions/grant", {"username": "alice",
                                                 "resource_type": "mcp_server",
                                                 "resource_id": "*", "permission": "READ"}, 400),
            ("GET", "users/permissions/list", {"username": "nobody"}, 404),
        ]
        for method, path, body, status in cases:
            resp = h.call(ADMIN, method, V3 + path, body)
            assert resp.status_code == status, (path, body, resp.status_code, resp.text)
            assert resp.json()["error_code"] in ("INVALID_PARAMETER_VALUE",
                                                 "RESOURCE_DOES_NOT_EXIST"), resp.text
        assert h.call(None, "GET", V3 + "roles/list").status_code == 401
