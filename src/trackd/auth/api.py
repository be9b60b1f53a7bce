"""The auth endpoints: users, per-resource grants (MLflow's shapes) and trackd's job tokens.

Served by the auth middleware itself, only when authentication is on. Users and grants answer
exactly as MLflow's basic-auth app does (``{"user": {...}}``, ``{"experiment_permission":
{...}}``, ``{}``), so ``mlflow.server.auth.client.AuthServiceClient`` (2.x and 3.x) works.

Tokens (trackd's own, for jobs that cannot hold a password): ``POST /api/2.0/trackd/tokens/create``
``{"name", "username"?, "expires_in_days"?}`` answers the token once; it is stored hashed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from trackd.auth import permissions, store
from trackd.auth.passwords import hash_password, new_token, token_digest
from trackd.auth.service import AuthService, validate_password
from trackd.auth.store import User
from trackd.errors import PERMISSION_DENIED, MlflowError, invalid_parameter, missing_parameter

Fields = dict[str, Any]
Endpoint = Callable[[AuthService, User, Fields], Awaitable[dict[str, Any]]]


def _str(fields: Fields, name: str) -> str:
    value = fields.get(name)
    if isinstance(value, list) and value:
        value = value[-1]
    if value is None or value == "":
        raise missing_parameter(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid_parameter(f"Invalid value {value!r} for parameter '{name}'")
    return str(value)


def _denied() -> MlflowError:
    return MlflowError("Permission denied", PERMISSION_DENIED)


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise _denied()


# -- users -------------------------------------------------------------------------------------


async def create_user(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    username = _str(fields, "username")
    if len(username) > 255:
        raise invalid_parameter("Username exceeds the maximum length of 255 characters.")
    pwhash = hash_password(validate_password(fields.get("password")))
    created = await auth.db.write(lambda c: store.create_user(c, username, pwhash, False))
    return {"user": created.to_json()}


async def get_user(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    username = _str(fields, "username")
    if not user.is_admin and username != user.username:
        raise _denied()
    found = await auth.db.read(lambda c: store.get_user(c, username))
    return {"user": found.to_json()}


async def current_user(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    return {"user": user.to_json(), "is_basic_auth": True}


async def update_password(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    username = _str(fields, "username")
    password = validate_password(fields.get("password"))
    if username == user.username:
        # Self-service re-asserts the current password, so a borrowed session cannot rotate it.
        current = fields.get("current_password")
        if not isinstance(current, str) or not current:
            raise invalid_parameter("Current password is required when changing your own "
                                    "password.")
        if not auth.passwords.check(user.password_hash, current):
            raise invalid_parameter("Current password does not match.")
        if password == current:
            raise invalid_parameter("New password must differ from the current password.")
    elif not user.is_admin:
        raise _denied()
    pwhash = hash_password(password)
    await auth.db.write(lambda c: store.update_user(c, username, password_hash=pwhash))
    return {}


async def update_admin(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    username = _str(fields, "username")
    raw = fields.get("is_admin")
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        raw = raw.lower() == "true"
    if not isinstance(raw, bool):
        raise invalid_parameter(f"Invalid value {raw!r} for parameter 'is_admin'")
    await auth.db.write(lambda c: store.update_user(c, username, is_admin=raw))
    return {}


async def delete_user(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    _require_admin(user)
    username = _str(fields, "username")
    if username == user.username:
        raise MlflowError("Users cannot delete their own account. Ask another admin to delete "
                          "this user instead.", "BAD_REQUEST")
    await auth.db.write(lambda c: store.delete_user(c, username))
    return {}


# -- grants ------------------------------------------------------------------------------------


def _grant_endpoint(resource_type: str, key_field: str, reply: str, mode: str) -> Endpoint:
    """One of the create/get/update/delete endpoints for per-user experiment or model grants."""

    async def endpoint(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
        key = _str(fields, key_field)
        if resource_type == "experiment":
            key = permissions.canonical_experiment_id(key)
        if not (await auth.permission(user, resource_type, key)).can_manage:
            raise _denied()
        username = _str(fields, "username")
        permission = None
        if mode in ("create", "update"):
            permission = permissions.check_grantable(_str(fields, "permission"))

        def work(conn: Any) -> dict[str, Any]:
            target = store.get_user(conn, username)
            if mode == "delete":
                store.delete_own_grant(conn, target, resource_type, key)
                return {}
            if mode == "get":
                found = store.get_own_grant(conn, target, resource_type, key)
                if found is None:
                    raise store.missing_grant(resource_type, key, target)
                return _grant_json(resource_type, key, target, found)
            assert permission is not None
            store.set_own_grant(conn, target, resource_type, key, permission, mode=mode)
            return _grant_json(resource_type, key, target, permission) if mode == "create" else {}

        result = await (auth.db.read(work) if mode == "get" else auth.db.write(work))
        return {reply: result} if result else {}

    return endpoint


def _grant_json(resource_type: str, key: str, user: User, permission: str) -> dict[str, Any]:
    if resource_type == "experiment":
        return {"experiment_id": key, "user_id": user.id, "permission": permission}
    return {"workspace": "default", "name": key, "user_id": user.id, "permission": permission}


# -- tokens ------------------------------------------------------------------------------------


async def create_token(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    owner_name = fields.get("username") or user.username
    if owner_name != user.username and not user.is_admin:
        raise _denied()
    name = _str(fields, "name")
    days = fields.get("expires_in_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
        raise invalid_parameter("expires_in_days must be a positive integer")
    now = int(time.time() * 1000)
    expires = None if days is None else now + days * 86_400_000
    token = new_token()
    digest = token_digest(token)

    def work(conn: Any) -> int:
        owner = store.get_user(conn, str(owner_name))
        return store.create_token(conn, owner, name, digest, now, expires)

    token_id = await auth.db.write(work)
    reply: dict[str, Any] = {"id": token_id, "name": name, "username": owner_name,
                             "token": token, "created_at": now}
    if expires is not None:
        reply["expires_at"] = expires
    return reply


async def list_tokens(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    scope = None if user.is_admin else user
    return {"tokens": await auth.db.read(lambda c: store.list_tokens(c, scope))}


async def delete_token(auth: AuthService, user: User, fields: Fields) -> dict[str, Any]:
    try:
        token_id = int(_str(fields, "id"))
    except ValueError:
        raise invalid_parameter("id must be an integer") from None

    def work(conn: Any) -> None:
        if not user.is_admin and store.token_owner(conn, token_id) != user.id:
            raise _denied()
        store.delete_token(conn, token_id)

    await auth.db.write(work)
    return {}


# (method, path after /api/2.0|/ajax-api/2.0 or 3.0) -> endpoint
ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("POST", "/mlflow/users/create"): create_user,
    ("GET", "/mlflow/users/get"): get_user,
    ("GET", "/mlflow/users/current"): current_user,
    ("PATCH", "/mlflow/users/update-password"): update_password,
    ("PATCH", "/mlflow/users/update-admin"): update_admin,
    ("DELETE", "/mlflow/users/delete"): delete_user,
    ("POST", "/trackd/tokens/create"): create_token,
    ("GET", "/trackd/tokens/list"): list_tokens,
    ("DELETE", "/trackd/tokens/delete"): delete_token,
}
for _kind, _type, _key, _reply in (
    ("experiments", "experiment", "experiment_id", "experiment_permission"),
    ("registered-models", "registered_model", "name", "registered_model_permission"),
):
    for _method, _mode in (("POST", "create"), ("GET", "get"), ("PATCH", "update"),
                           ("DELETE", "delete")):
        ENDPOINTS[(_method, f"/mlflow/{_kind}/permissions/{_mode}")] = _grant_endpoint(
            _type, _key, _reply, _mode)
