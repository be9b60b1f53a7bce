"""MLflow 3.18's auth API (unified grants, roles) on a live server, as platform scripts use it.

Driven over HTTP with ``requests`` and with ``mlflow.server.auth.client.AuthServiceClient``;
the same expectations pass against ``mlflow server --app-name basic-auth`` 3.18 with
``--compat-target mlflow`` (see docs/mlflow-captures/auth318.md), except the leak test, which
shows where trackd deliberately differs. The auth database is of ``db_kind`` (SQLite,
PostgreSQL, ...): the server's own tables live in a SQLite file beside it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.db import enter_database
from support.server import ServerOptions, ServerProcess, start_server

from auth.conftest import ADMIN

pytest.importorskip("flask_wtf")  # mlflow.server.auth imports it
pytestmark = [pytest.mark.compat,
              pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated")]

V3 = "/api/3.0/mlflow/"
_names = itertools.count()


@pytest.fixture(scope="module")
def server(compat_target: str, db_kind: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if db_kind == "mysql" and compat_target == "mlflow":
        # MLflow's auth app cannot create its schema there: two foreign keys share the name
        # fk_user_id, which MySQL wants unique per database (trackd names the second its own).
        pytest.skip("mlflow server's auth schema does not create on MySQL/MariaDB")
    workdir = tmp_path_factory.mktemp(f"auth318-{compat_target}-{db_kind}")
    (workdir / "authdb").mkdir()
    with enter_database(db_kind, workdir / "authdb") as auth_url:
        ini = workdir / "basic_auth.ini"
        ini.write_text(f"[mlflow]\ndefault_permission = READ\ndatabase_uri = {auth_url}\n"
                       f"admin_username = {ADMIN[0]}\nadmin_password = {ADMIN[1]}\n")
        saved = {k: os.environ.get(k) for k in ("MLFLOW_AUTH_CONFIG_PATH",
                                                 "MLFLOW_FLASK_SERVER_SECRET_KEY")}
        os.environ["MLFLOW_AUTH_CONFIG_PATH"] = str(ini)
        os.environ["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "test-only-key"
        try:
            proc = start_server(compat_target, ServerOptions(
                backend_store_uri=f"sqlite:///{workdir / 'mlflow.db'}",
                artifacts_destination=workdir / "artifacts",
                default_artifact_root="mlflow-artifacts:/",
                extra_args=["--app-name", "basic-auth"],
            ), workdir)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        yield proc
        proc.stop()


class Api:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, who: tuple[str, str], method: str, path: str, body: Any = None,
             ) -> requests.Response:
        url = self.url + (path if path.startswith("/") else V3 + path)
        kw: dict[str, Any] = {"params": body} if method == "GET" else {"json": body}
        return requests.request(method, url, auth=who, timeout=60, **kw)

    def ok(self, who: tuple[str, str], method: str, path: str, body: Any = None) -> Any:
        resp = self.call(who, method, path, body)
        assert resp.status_code == 200, (method, path, resp.status_code, resp.text)
        return resp.json() if resp.content else {}

    def error(self, who: tuple[str, str], method: str, path: str, body: Any,
              status: int, code: str | None = None) -> str:
        resp = self.call(who, method, path, body)
        assert resp.status_code == status, (method, path, resp.status_code, resp.text)
        if code is None:
            return resp.text
        assert resp.json()["error_code"] == code, resp.text
        return str(resp.json()["message"])

    def user(self, stem: str) -> tuple[str, str]:
        creds = (f"{stem}{next(_names)}", f"{stem}-password-123")
        self.ok(ADMIN, "POST", "/api/2.0/mlflow/users/create",
                {"username": creds[0], "password": creds[1]})
        return creds

    def experiment(self, who: tuple[str, str]) -> str:
        name = f"exp-{next(_names)}-{os.getpid()}"
        return str(self.ok(who, "POST", "/api/2.0/mlflow/experiments/create",
                           {"name": name})["experiment_id"])


@pytest.fixture
def api(server: ServerProcess) -> Api:
    return Api(server.url)


def _grant(user: str, kind: str, rid: str, level: str | None = None) -> dict[str, str]:
    body = {"username": user, "resource_type": kind, "resource_id": rid}
    return body if level is None else {**body, "permission": level}


def test_grant_get_revoke_semantics(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    exp = api.experiment(alice)  # alice gets MANAGE on it and may grant
    api.ok(alice, "POST", "users/permissions/grant", _grant(bob[0], "experiment", exp, "EDIT"))
    message = api.error(alice, "POST", "users/permissions/grant",
                        _grant(bob[0], "experiment", exp, "READ"), 400,
                        "RESOURCE_ALREADY_EXISTS")
    assert message == (f"Permission for user={bob[0]} on resource_type=experiment, "
                       f"resource_id={exp} already exists.")
    got = api.ok(ADMIN, "GET", "users/permissions/get", _grant(bob[0], "experiment", "0" + exp))
    assert got == {"allowed": True, "permission": "EDIT"}  # the first grant kept, "01" is "1"
    assert api.ok(bob, "GET", "users/permissions/get",
                  _grant(bob[0], "experiment", "99999")) == {"allowed": False,
                                                             "permission": "READ"}
    api.ok(alice, "POST", "users/permissions/revoke", _grant(bob[0], "experiment", exp))
    api.error(alice, "POST", "users/permissions/revoke", _grant(bob[0], "experiment", exp),
              404, "RESOURCE_DOES_NOT_EXIST")
    # Who may grant: MANAGE on the id; '*' is for admins only.
    api.error(bob, "POST", "users/permissions/grant", _grant(bob[0], "experiment", exp, "MANAGE"),
              403)
    api.error(alice, "POST", "users/permissions/grant", _grant(bob[0], "experiment", "*", "READ"),
              403)
    api.error(bob, "GET", "users/permissions/get", _grant(alice[0], "experiment", exp), 403)


def test_grant_input_errors(api: Api) -> None:
    bob = api.user("bob")
    msg = api.error(ADMIN, "POST", "users/permissions/grant",
                    _grant(bob[0], "experiment", "5", "NO_PERMISSIONS"), 400,
                    "INVALID_PARAMETER_VALUE")
    assert msg.startswith("Invalid permission 'NO_PERMISSIONS' for resource_type='experiment'")
    msg = api.error(ADMIN, "POST", "users/permissions/grant",
                    _grant(bob[0], "experiment", "5", "BOGUS"), 400, "INVALID_PARAMETER_VALUE")
    assert msg.startswith("Invalid permission 'BOGUS'")
    msg = api.error(ADMIN, "POST", "users/permissions/grant", _grant(bob[0], "nope", "5", "READ"),
                    400, "INVALID_PARAMETER_VALUE")
    assert msg.startswith("Invalid resource type 'nope'. Valid resource types are: (")
    msg = api.error(ADMIN, "POST", "users/permissions/grant",
                    _grant("no-such-user", "experiment", "5", "READ"), 404,
                    "RESOURCE_DOES_NOT_EXIST")
    assert msg == "User with username=no-such-user not found"
    body = {"username": bob[0], "resource_type": "experiment", "permission": "READ"}
    msg = api.error(ADMIN, "POST", "users/permissions/grant", body, 400, "INVALID_PARAMETER_VALUE")
    assert "resource_id" in msg


def test_deny_beats_everything_and_roles_apply_to_members(api: Api) -> None:
    owner, bob = api.user("owner"), api.user("bob")
    exp, other = api.experiment(owner), api.experiment(owner)
    run_body = {"experiment_id": exp}
    api.error(bob, "POST", "/api/2.0/mlflow/runs/create", run_body, 403)  # default READ
    role = api.ok(ADMIN, "POST", "roles/create",
                  {"workspace": "default", "name": f"editors{next(_names)}"})["role"]
    api.ok(ADMIN, "POST", "roles/permissions/add", {
        "role_id": role["id"], "resource_type": "experiment", "resource_pattern": "*",
        "permission": "EDIT"})
    api.ok(ADMIN, "POST", "roles/assign", {"username": bob[0], "role_id": role["id"]})
    api.ok(bob, "POST", "/api/2.0/mlflow/runs/create", run_body)  # EDIT through the role
    api.ok(ADMIN, "POST", "users/permissions/grant", _grant(bob[0], "experiment", exp, "DENY"))
    api.error(bob, "GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": exp}, 403)
    api.error(bob, "POST", "/api/2.0/mlflow/runs/create", run_body, 403)
    api.ok(bob, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": other})
    assert api.ok(ADMIN, "GET", "users/permissions/get",
                  _grant(bob[0], "experiment", exp)) == {"allowed": False, "permission": "DENY"}
    found = api.ok(bob, "GET", "/api/2.0/mlflow/experiments/search", {"max_results": 1000})
    ids = {e["experiment_id"] for e in found.get("experiments", [])}
    assert other in ids and exp not in ids  # denied experiments drop out of searches
    api.ok(ADMIN, "DELETE", "roles/unassign", {"username": bob[0], "role_id": role["id"]})
    api.error(bob, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": other}, 403)
    api.ok(ADMIN, "GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": exp})  # admin


def test_user_listings(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    exp = api.experiment(alice)
    names = {u["username"] for u in api.ok(bob, "GET", "/api/2.0/mlflow/users/list")["users"]}
    assert {alice[0], bob[0], ADMIN[0]} <= names
    mine = api.ok(alice, "GET", "users/current/permissions")
    assert mine["is_admin"] is False
    assert {"permission": "MANAGE", "resource_pattern": exp, "resource_type": "experiment",
            "workspace": "default"}.items() <= mine["permissions"][0].items()
    assert mine["permissions"][0]["role_name"].startswith("__user_")
    assert api.ok(alice, "GET", "users/permissions/list", {"username": alice[0]}) == mine
    api.error(bob, "GET", "users/permissions/list", {"username": alice[0]}, 403)
    assert api.ok(ADMIN, "GET", "users/current/permissions") == {"is_admin": True,
                                                                  "permissions": []}
    api.ok(alice, "GET", "/ajax-api/3.0/mlflow/users/current/permissions")
    api.error(bob, "GET", "users/roles/list", {"username": alice[0]}, 403)
    assert api.ok(alice, "GET", "users/roles/list", {"username": alice[0]})["roles"][0][
        "name"].startswith("__user_")


def test_roles_with_the_official_client(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    bob = api.user("bob")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    client = AuthServiceClient(api.url)
    name = f"readers{next(_names)}"
    role = client.create_role("default", name, "can read models")
    assert (role.name, role.workspace, role.description) == (name, "default", "can read models")
    with pytest.raises(MlflowException) as err:
        client.create_role("default", name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert client.get_role(role.id).name == name
    assert name in {r.name for r in client.list_roles("default")}
    assert client.update_role(role.id, description="new").description == "new"
    perm = client.add_role_permission(role.id, "registered_model", "*", "READ")
    assert (perm.resource_type, perm.resource_pattern, perm.permission) == (
        "registered_model", "*", "READ")
    with pytest.raises(MlflowException) as err:
        client.add_role_permission(role.id, "workspace", "*", "READ")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [p.id for p in client.list_role_permissions(role.id)] == [perm.id]
    assert client.update_role_permission(perm.id, "EDIT").permission == "EDIT"
    assignment = client.assign_role(bob[0], role.id)
    assert assignment.role_id == role.id
    with pytest.raises(MlflowException) as err:
        client.assign_role(bob[0], role.id)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert name in {r.name for r in client.list_user_roles(bob[0])}
    assert [a.user_id for a in client.list_role_users(role.id)] == [assignment.user_id]
    client.grant_user_permission(bob[0], "registered_model", "m1", "DENY")
    assert client.get_user_permission(bob[0], "registered_model", "m1").permission == "DENY"
    client.revoke_user_permission(bob[0], "registered_model", "m1")
    client.unassign_role(bob[0], role.id)
    client.remove_role_permission(perm.id)
    client.delete_role(role.id)
    for call in (lambda: client.get_role(role.id), lambda: client.delete_role(role.id),
                 lambda: client.remove_role_permission(perm.id),
                 lambda: client.unassign_role(bob[0], role.id)):
        with pytest.raises(MlflowException) as err:
            call()
        assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", bob[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", bob[1])
    with pytest.raises(MlflowException):
        client.create_role("default", "not-allowed")


def test_role_input_errors(api: Api) -> None:
    api.error(ADMIN, "GET", "roles/get", {"role_id": "abc"}, 400, "INVALID_PARAMETER_VALUE")
    assert api.error(ADMIN, "GET", "roles/get", {"role_id": 99999}, 404,
                     "RESOURCE_DOES_NOT_EXIST") == "Role with id=99999 not found"
    msg = api.error(ADMIN, "POST", "roles/create", {"workspace": "default"}, 400,
                    "INVALID_PARAMETER_VALUE")
    assert "'name'" in msg
    api.error(ADMIN, "POST", "/api/2.0/mlflow/does-not-exist", {}, 404)


def test_roles_are_not_shown_to_non_members(api: Api, compat_target: str) -> None:
    """The leak in MLflow 3.18 that trackd does not copy (docs/operations.md)."""
    if compat_target == "mlflow":
        pytest.skip("MLflow 3.18 shows every role to any user holding a role")
    alice, bob = api.user("alice"), api.user("bob")
    api.experiment(alice)  # alice now holds her own __user_<id>__ role
    exp = api.experiment(bob)
    role = api.ok(ADMIN, "POST", "roles/create",
                  {"workspace": "default", "name": f"secret{next(_names)}"})["role"]
    bob_roles = api.ok(bob, "GET", "users/roles/list", {"username": bob[0]})["roles"]
    bob_own = bob_roles[0]["id"]
    for role_id in (role["id"], bob_own):
        api.error(alice, "GET", "roles/get", {"role_id": role_id}, 403)
        api.error(alice, "GET", "roles/permissions/list", {"role_id": role_id}, 403)
    listed = api.ok(alice, "GET", "roles/list", {"workspace": "default"})["roles"]
    assert {r["name"] for r in listed} == {n for n in (r["name"] for r in listed)
                                           if n.startswith("__user_")}
    assert len(listed) == 1 and all(p["resource_pattern"] != exp
                                    for r in listed for p in r["permissions"])
    # Members and admins still see a role.
    assert api.ok(bob, "GET", "roles/get", {"role_id": bob_own})["role"]["id"] == bob_own
    assert api.ok(ADMIN, "GET", "roles/permissions/list", {"role_id": bob_own})[
        "role_permissions"][0]["resource_pattern"] == exp


def test_reserved_role_names(api: Api) -> None:
    msg = api.error(ADMIN, "POST", "roles/create", {"workspace": "default", "name": "__user_99__"},
                    400, "INVALID_PARAMETER_VALUE")
    assert "reserved '__user_' prefix" in msg
