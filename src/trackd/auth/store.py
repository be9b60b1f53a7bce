"""SQL on the auth database: users, per-user grants, and trackd's bearer tokens.

Grants are stored as MLflow 3.18 stores them: a user's own grants hang off a hidden role named
``__user_<id>__`` in the ``default`` workspace, assigned to that user; roles an admin built with
MLflow's role API count too, since a user's effective grants are read through every role
assigned to them. Every function takes an open connection and runs inside the caller's unit of
work (``Database.read``/``write``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from trackd.auth.tables import (
    DEFAULT_WORKSPACE,
    LEGACY_GRANT_TABLES,
    auth_tokens,
    role_permissions,
    roles,
    user_role_assignments,
    users,
)
from trackd.errors import MlflowError, already_exists, not_found


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password_hash: str | None
    is_admin: bool

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


@dataclass(frozen=True)
class Grant:
    resource_type: str
    resource_pattern: str
    permission: str


def synthetic_role_name(user_id: int) -> str:
    return f"__user_{user_id}__"


def _user(row: sa.Row | None) -> User | None:
    if row is None:
        return None
    return User(row.id, row.username, row.password_hash, bool(row.is_admin))


# -- users -------------------------------------------------------------------------------------


def find_user(conn: Connection, username: str) -> User | None:
    return _user(conn.execute(sa.select(users).where(users.c.username == username)).first())


def get_user(conn: Connection, username: str) -> User:
    user = find_user(conn, username)
    if user is None:
        raise not_found(f"User with username={username} not found")
    return user


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(sa.select(users).order_by(users.c.id))
    return [u for u in map(_user, rows) if u is not None]


def count_users(conn: Connection) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(users)) or 0)


def create_user(conn: Connection, username: str, password_hash: str, is_admin: bool) -> User:
    try:
        with conn.begin_nested():
            conn.execute(users.insert().values(
                username=username, password_hash=password_hash, is_admin=is_admin))
    except IntegrityError:
        raise already_exists(f"User (username={username}) already exists.") from None
    return get_user(conn, username)


def update_user(conn: Connection, username: str, *, password_hash: str | None = None,
                is_admin: bool | None = None) -> None:
    values: dict[str, object] = {}
    if password_hash is not None:
        values["password_hash"] = password_hash
    if is_admin is not None:
        values["is_admin"] = is_admin
    get_user(conn, username)
    if values:
        conn.execute(users.update().where(users.c.username == username).values(**values))


def delete_user(conn: Connection, username: str) -> None:
    user = get_user(conn, username)
    own_roles = sa.select(roles.c.id).where(roles.c.name == synthetic_role_name(user.id))
    role_ids = list(conn.scalars(own_roles))
    if role_ids:
        conn.execute(role_permissions.delete().where(role_permissions.c.role_id.in_(role_ids)))
        conn.execute(user_role_assignments.delete().where(
            user_role_assignments.c.role_id.in_(role_ids)))
        conn.execute(roles.delete().where(roles.c.id.in_(role_ids)))
    conn.execute(user_role_assignments.delete().where(user_role_assignments.c.user_id == user.id))
    # The pre-3.18 grant tables reference users.id without cascading.
    for table in LEGACY_GRANT_TABLES:
        conn.execute(table.delete().where(table.c.user_id == user.id))
    conn.execute(auth_tokens.delete().where(auth_tokens.c.user_id == user.id))
    conn.execute(users.delete().where(users.c.id == user.id))


# -- grants ------------------------------------------------------------------------------------


def _own_role_id(conn: Connection, user_id: int, *, create: bool) -> int | None:
    name = synthetic_role_name(user_id)
    query = sa.select(roles.c.id).where(roles.c.workspace == DEFAULT_WORKSPACE,
                                        roles.c.name == name)
    role_id = conn.scalar(query)
    if role_id is None and create:
        try:
            with conn.begin_nested():
                conn.execute(roles.insert().values(name=name, workspace=DEFAULT_WORKSPACE))
        except IntegrityError:
            pass  # created by a concurrent grant: use that one
        role_id = conn.scalar(query)
    if role_id is not None and create:
        assigned = conn.scalar(sa.select(user_role_assignments.c.id).where(
            user_role_assignments.c.user_id == user_id,
            user_role_assignments.c.role_id == role_id))
        if assigned is None:
            conn.execute(user_role_assignments.insert().values(user_id=user_id, role_id=role_id))
    return role_id


def _own_grant(conn: Connection, role_id: int, resource_type: str, pattern: str) -> sa.Row | None:
    return conn.execute(sa.select(role_permissions).where(
        role_permissions.c.role_id == role_id,
        role_permissions.c.resource_type == resource_type,
        role_permissions.c.resource_pattern == pattern,
    )).first()


def get_own_grant(conn: Connection, user: User, resource_type: str, pattern: str) -> str | None:
    role_id = _own_role_id(conn, user.id, create=False)
    if role_id is None:
        return None
    row = _own_grant(conn, role_id, resource_type, pattern)
    return None if row is None else str(row.permission)


def set_own_grant(conn: Connection, user: User, resource_type: str, pattern: str,
                  permission: str, *, mode: str) -> None:
    """mode: ``create`` (must not exist), ``update`` (must exist) or ``upsert``."""
    role_id = _own_role_id(conn, user.id, create=True)
    assert role_id is not None
    existing = _own_grant(conn, role_id, resource_type, pattern)
    if existing is not None and mode == "create":
        raise already_exists(_grant_label(resource_type, pattern, user) + " already exists.")
    if existing is None and mode == "update":
        raise not_found(_grant_label(resource_type, pattern, user) + " not found")
    if existing is None:
        conn.execute(role_permissions.insert().values(
            role_id=role_id, resource_type=resource_type, resource_pattern=pattern,
            permission=permission))
    else:
        conn.execute(role_permissions.update().where(role_permissions.c.id == existing.id)
                     .values(permission=permission))


def delete_own_grant(conn: Connection, user: User, resource_type: str, pattern: str,
                     *, missing_ok: bool = False) -> None:
    role_id = _own_role_id(conn, user.id, create=False)
    row = None if role_id is None else _own_grant(conn, role_id, resource_type, pattern)
    if row is None:
        if missing_ok:
            return
        raise not_found(_grant_label(resource_type, pattern, user) + " not found")
    conn.execute(role_permissions.delete().where(role_permissions.c.id == row.id))


def missing_grant(resource_type: str, pattern: str, user: User) -> MlflowError:
    return not_found(_grant_label(resource_type, pattern, user) + " not found")


def _grant_label(resource_type: str, pattern: str, user: User) -> str:
    if resource_type == "experiment":
        return f"Experiment permission with experiment_id={pattern} and username={user.username}"
    if resource_type == "registered_model":
        return (f"Registered model permission with workspace={DEFAULT_WORKSPACE}, "
                f"name={pattern} and username={user.username}")
    return f"Permission on {resource_type} {pattern} for username={user.username}"


def user_grants(conn: Connection, user_id: int, resource_types: tuple[str, ...],
                patterns: tuple[str, ...] | None = None) -> list[Grant]:
    """Every grant reaching the user through any role in the default workspace.

    ``patterns`` narrows to those resources (pass ``"*"`` among them for wildcard grants);
    workspace-wide grants are always included, since a workspace MANAGE makes its holder an
    admin of everything in it.
    """
    rp, ura = role_permissions, user_role_assignments
    scope: sa.ColumnElement[bool] = rp.c.resource_type.in_(resource_types)
    if patterns is not None:
        scope = sa.and_(scope, rp.c.resource_pattern.in_(patterns))
    query = (
        sa.select(rp.c.resource_type, rp.c.resource_pattern, rp.c.permission)
        .join(roles, roles.c.id == rp.c.role_id)
        .join(ura, ura.c.role_id == roles.c.id)
        .where(ura.c.user_id == user_id, roles.c.workspace == DEFAULT_WORKSPACE,
               sa.or_(scope, sa.and_(rp.c.resource_type == "workspace",
                                     rp.c.resource_pattern == "*")))
    )
    return [Grant(*row) for row in conn.execute(query)]


def delete_grants_for_resource(conn: Connection, resource_type: str, pattern: str) -> None:
    """A registered model's name can be reused: its old grants must not pass to the new one."""
    conn.execute(role_permissions.delete().where(
        role_permissions.c.resource_type == resource_type,
        role_permissions.c.resource_pattern == pattern,
        role_permissions.c.role_id.in_(_synthetic_role_ids()),
    ))


def rename_grants_for_resource(conn: Connection, resource_type: str, old: str, new: str) -> None:
    conn.execute(role_permissions.update().where(
        role_permissions.c.resource_type == resource_type,
        role_permissions.c.resource_pattern == old,
        role_permissions.c.role_id.in_(_synthetic_role_ids()),
    ).values(resource_pattern=new))


def _synthetic_role_ids() -> sa.Select:
    # Only per-user roles: an admin-built role is the admin's to change.
    return sa.select(roles.c.id).where(roles.c.name.like("\\_\\_user\\_%\\_\\_", escape="\\"))


# -- tokens ------------------------------------------------------------------------------------


def user_for_token(conn: Connection, digest: str, now_ms: int) -> User | None:
    row = conn.execute(
        sa.select(users)
        .join(auth_tokens, auth_tokens.c.user_id == users.c.id)
        .where(auth_tokens.c.token_hash == digest,
               sa.or_(auth_tokens.c.expires_at.is_(None), auth_tokens.c.expires_at > now_ms))
    ).first()
    return _user(row)


def create_token(conn: Connection, user: User, name: str, digest: str, now_ms: int,
                 expires_at: int | None) -> int:
    result = conn.execute(auth_tokens.insert().values(
        token_hash=digest, user_id=user.id, name=name, created_at=now_ms, expires_at=expires_at))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_tokens(conn: Connection, user: User | None) -> list[dict[str, object]]:
    query = (sa.select(auth_tokens.c.id, auth_tokens.c.name, auth_tokens.c.created_at,
                       auth_tokens.c.expires_at, users.c.username)
             .join(users, users.c.id == auth_tokens.c.user_id).order_by(auth_tokens.c.id))
    if user is not None:
        query = query.where(auth_tokens.c.user_id == user.id)
    out = []
    for row in conn.execute(query):
        item: dict[str, object] = {"id": row.id, "name": row.name, "username": row.username,
                                   "created_at": row.created_at}
        if row.expires_at is not None:
            item["expires_at"] = row.expires_at
        out.append(item)
    return out


def token_owner(conn: Connection, token_id: int) -> int | None:
    return conn.scalar(sa.select(auth_tokens.c.user_id).where(auth_tokens.c.id == token_id))


def delete_token(conn: Connection, token_id: int) -> None:
    if conn.execute(auth_tokens.delete().where(auth_tokens.c.id == token_id)).rowcount == 0:
        raise not_found(f"Token with id={token_id} not found")
