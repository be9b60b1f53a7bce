"""MLflow 3.18's auth API: per-user grants by resource type, and role management.

Answers as ``mlflow server --app-name basic-auth`` 3.18 does (docs/mlflow-captures/auth318.md),
so permission scripts and ``AuthServiceClient`` work unchanged, with one difference on purpose:
MLflow lets any user who holds a role read every role and its grants (``roles/get``,
``roles/permissions/list``, ``roles/list``), which shows everyone's direct grants to everyone.
trackd answers those only to admins and to the role's own members (docs/operations.md).
"""

from __future__ import annotations

from typing import Any

from trackd.auth import permissions, roles, store, tiers
from trackd.auth.api import Endpoint, Fields, _denied, _require_admin, _str
from trackd.auth.service import AuthService
from trackd.auth.store import User
from trackd.errors import already_exists, invalid_parameter, not_found

# The resource types MLflow 3.18 knows whose grants trackd enforces (auth/tiers.py), plus
# review_queue, which MLflow accepts and stores; review queues are not served yet, so its
# grants are stored for them and decide nothing. The rest name things trackd does not serve.
SERVED_TYPES = ("assessment", "experiment", "logged_model", "prompt", "registered_model",
                "review_queue", "run", "scorer", "scorer_version", "trace")
MLFLOW_ONLY_TYPES = ("gateway_endpoint", "gateway_model_definition", "gateway_secret",
                     "mcp_server", "mcp_server_version", "prompt_version",
                     "registered_model_version", "skill")
RESOURCE_GRANTS = ("DENY", "EDIT", "MANAGE", "READ", "USE")
WORKSPACE_GRANTS = ("MANAGE", "USE")


def _resource_type(fields: Fields, *, workspace_ok: bool) -> str:
    kind = _str(fields, "resource_type")
    valid = SERVED_TYPES + (("workspace",) if workspace_ok else ())
    if kind not in valid:
        # MLflow's own message, naming only what trackd serves (the gateway, scorers, MCP
        # servers... are not served, so a grant on them could never be enforced here).
        raise invalid_parameter(f"Invalid resource type '{kind}'. Valid resource types are: "
                                f"{tuple(sorted(valid))}")
    return kind


def _grant_level(fields: Fields, kind: str) -> str:
    name = _str(fields, "permission")
    permissions.get(name)  # unknown names: MLflow's "Invalid permission" message
    if kind == "workspace":
        if name not in WORKSPACE_GRANTS:
            raise invalid_parameter(f"Invalid permission '{name}' for resource_type='workspace'. "
                                    f"Workspace-wide grants accept only: {WORKSPACE_GRANTS}.")
    elif name not in RESOURCE_GRANTS:
        raise invalid_parameter(f"Invalid permission '{name}' for resource_type='{kind}'. "
                                f"Resource-level grants accept only: {RESOURCE_GRANTS}.")
    return name


def _pattern(kind: str, raw: str) -> str:
    if raw != "*" and (kind == "workspace" or kind in tiers.WILDCARD_ONLY):
        raise invalid_parameter(f"Invalid resource_pattern '{raw}' for resource_type='{kind}'. "
                                "This resource type supports only wildcard ('*') grants.")
    return tiers.canonical_key(kind, raw)


def _int(fields: Fields, name: str) -> int:
    raw = _str(fields, name)
    try:
        return int(raw)
    except ValueError:
        raise invalid_parameter(f"Parameter '{name}' must be an integer. Got: '{raw}'") from None


def _optional(fields: Fields, name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_parameter(f"Invalid value {value!r} for parameter '{name}'")
    return value


# -- per-user grants -----------------------------------------------------------------------------


async def _may_manage(auth: AuthService, user: User, kind: str, key: str) -> None:
    """Grants on one resource need MANAGE on it; grants on every resource ('*') need an admin."""
    if user.is_admin:
        return
    if kind == tiers.SCORER and key != "*" and "/" not in key:
        raise invalid_parameter("Invalid scorer resource_id. Expected "
                                "'<experiment_id>/<scorer_name>'.")
    if key == "*" or not (await auth.permission(user, kind, key)).can_manage:
        raise _denied()


def _label(username: str, kind: str, key: str) -> str:
    return f"Permission for user={username} on resource_type={kind}, resource_id={key}"


async def grant(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    username = _str(fields, "username")
    kind = _resource_type(fields, workspace_ok=False)
    key = _pattern(kind, _str(fields, "resource_id"))
    level = _grant_level(fields, kind)
    await _may_manage(auth, user, kind, key)

    def work(conn: Any) -> None:
        target = store.get_user(conn, username)
        if store.get_own_grant(conn, target, kind, key) is not None:
            # A level changes by revoke then grant, as in MLflow: a second grant never
            # silently overwrites the first.
            raise already_exists(_label(username, kind, key) + " already exists.")
        store.set_own_grant(conn, target, kind, key, level, mode="create")

    await auth.db.write(work)
    return {}


async def revoke(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    username = _str(fields, "username")
    kind = _resource_type(fields, workspace_ok=False)
    key = _pattern(kind, _str(fields, "resource_id"))
    await _may_manage(auth, user, kind, key)

    def work(conn: Any) -> None:
        target = store.get_user(conn, username)
        if store.get_own_grant(conn, target, kind, key) is None:
            raise not_found(_label(username, kind, key) + " not found.")
        store.delete_own_grant(conn, target, kind, key)

    await auth.db.write(work)
    return {}


async def get_effective(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    username = _str(fields, "username")
    kind = _resource_type(fields, workspace_ok=False)
    key = _pattern(kind, _str(fields, "resource_id"))
    if username != user.username and not user.is_admin and not (
            await auth.permission(user, kind, key)).can_manage:
        raise _denied()
    target = await auth.db.read(lambda c: store.get_user(c, username))
    effective = await auth.permission(target, kind, key)
    # "allowed" is MLflow's "may use": READ alone answers false.
    return {"allowed": effective.can_use, "permission": effective.name}


async def _permissions_of(auth: AuthService, target: User) -> dict[str, Any]:
    found = await auth.db.read(lambda c: roles.user_permissions(c, target.id))
    return {"is_admin": target.is_admin, "permissions": found}


async def current_permissions(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    return await _permissions_of(auth, user)


async def list_permissions(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    # MLflow 3.18 lists every grant and ignores resource_type / resource_id filters.
    username = _str(fields, "username")
    if not user.is_admin and username != user.username:
        raise _denied()
    target = await auth.db.read(lambda c: store.get_user(c, username))
    return await _permissions_of(auth, target)


async def list_users(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    # MLflow 3.18 answers every signed-in user here (the UI's user pickers need the names).
    found = await auth.db.read(store.list_users)
    return {"users": [{**u.to_json(), "roles": []} for u in found]}


# -- roles ---------------------------------------------------------------------------------------


async def _may_see_role(auth: AuthService, user: User, role_id: int) -> None:
    """The leak MLflow 3.18 has and trackd does not: a role is shown to admins and members."""
    if user.is_admin:
        return
    member = await auth.db.read(lambda c: roles.is_member(c, user.id, role_id))
    if not member:
        raise _denied()


async def create_role(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    name = _str(fields, "name")
    workspace = _optional(fields, "workspace") or roles.DEFAULT_WORKSPACE
    description = _optional(fields, "description")
    return {"role": await auth.db.write(
        lambda c: roles.create_role(c, workspace, name, description))}


async def get_role(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    role_id = _int(fields, "role_id")
    await _may_see_role(auth, user, role_id)
    return {"role": await auth.db.read(lambda c: roles.get_role(c, role_id))}


async def list_roles(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    workspace = _optional(fields, "workspace") or None
    member = None if user.is_admin else user.id  # non-admins see only their own roles
    return {"roles": await auth.db.read(lambda c: roles.list_roles(c, workspace, member))}


async def update_role(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    role_id = _int(fields, "role_id")
    name, description = _optional(fields, "name"), _optional(fields, "description")
    return {"role": await auth.db.write(
        lambda c: roles.update_role(c, role_id, name, description))}


async def delete_role(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    role_id = _int(fields, "role_id")
    await auth.db.write(lambda c: roles.delete_role(c, role_id))
    return {}


async def add_permission(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    role_id = _int(fields, "role_id")
    kind = _resource_type(fields, workspace_ok=True)
    pattern = _pattern(kind, _str(fields, "resource_pattern"))
    level = _grant_level(fields, kind)
    return {"role_permission": await auth.db.write(
        lambda c: roles.add_permission(c, role_id, kind, pattern, level))}


async def update_permission(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    permission_id = _int(fields, "role_permission_id")
    name = _str(fields, "permission")

    def work(conn: Any) -> dict[str, Any]:
        current = roles.get_permission(conn, permission_id)
        level = _grant_level({"permission": name}, current["resource_type"])
        return roles.update_permission(conn, permission_id, level)

    return {"role_permission": await auth.db.write(work)}


async def remove_permission(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    permission_id = _int(fields, "role_permission_id")
    await auth.db.write(lambda c: roles.remove_permission(c, permission_id))
    return {}


async def list_role_permissions(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    role_id = _int(fields, "role_id")
    await _may_see_role(auth, user, role_id)

    def work(conn: Any) -> list[dict[str, Any]]:
        roles.get_role(conn, role_id)
        return roles.role_permissions_of(conn, role_id)

    return {"role_permissions": await auth.db.read(work)}


async def assign(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    username, role_id = _str(fields, "username"), _int(fields, "role_id")
    return {"assignment": await auth.db.write(
        lambda c: roles.assign(c, roles.user_id_of(c, username), role_id))}


async def unassign(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    username, role_id = _str(fields, "username"), _int(fields, "role_id")
    await auth.db.write(lambda c: roles.unassign(c, roles.user_id_of(c, username), role_id))
    return {}


async def user_roles(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    username = _str(fields, "username")
    if not user.is_admin and username != user.username:
        raise _denied()

    def work(conn: Any) -> list[dict[str, Any]]:
        return roles.list_roles(conn, None, roles.user_id_of(conn, username))

    return {"roles": await auth.db.read(work)}


async def role_users(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    role_id = _int(fields, "role_id")
    return {"assignments": await auth.db.read(lambda c: roles.role_users(c, role_id))}


# (method, path after the version prefix): MLflow serves these under /api/3.0 and /ajax-api/3.0.
ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/mlflow/users/list"): list_users,
    ("GET", "/mlflow/users/current/permissions"): current_permissions,
    ("GET", "/mlflow/users/permissions/list"): list_permissions,
    ("POST", "/mlflow/users/permissions/grant"): grant,
    ("POST", "/mlflow/users/permissions/revoke"): revoke,
    ("GET", "/mlflow/users/permissions/get"): get_effective,
    ("POST", "/mlflow/roles/create"): create_role,
    ("GET", "/mlflow/roles/get"): get_role,
    ("GET", "/mlflow/roles/list"): list_roles,
    ("PATCH", "/mlflow/roles/update"): update_role,
    ("DELETE", "/mlflow/roles/delete"): delete_role,
    ("POST", "/mlflow/roles/permissions/add"): add_permission,
    ("DELETE", "/mlflow/roles/permissions/remove"): remove_permission,
    ("GET", "/mlflow/roles/permissions/list"): list_role_permissions,
    ("PATCH", "/mlflow/roles/permissions/update"): update_permission,
    ("POST", "/mlflow/roles/assign"): assign,
    ("DELETE", "/mlflow/roles/unassign"): unassign,
    ("GET", "/mlflow/users/roles/list"): user_roles,
    ("GET", "/mlflow/roles/users/list"): role_users,
}
