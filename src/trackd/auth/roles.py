"""SQL for MLflow 3.18's roles: roles, their permissions and who holds them.

The rows are MLflow's own (``roles``, ``role_permissions``, ``user_role_assignments``), so a
role made here works in ``mlflow server --app-name basic-auth`` and the other way round. A
user's direct grants live on a per-user role ``__user_<id>__`` (see :mod:`trackd.auth.store`);
it is listed here like any other role, as MLflow lists it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from trackd.auth.tables import DEFAULT_WORKSPACE, role_permissions, roles, user_role_assignments
from trackd.auth.tables import users as users_table
from trackd.errors import already_exists, invalid_parameter, not_found

Json = dict[str, Any]


def _permission_json(row: sa.Row) -> Json:
    return {"id": row.id, "role_id": row.role_id, "resource_type": row.resource_type,
            "resource_pattern": row.resource_pattern, "permission": row.permission}


def role_permissions_of(conn: Connection, role_id: int) -> list[Json]:
    rows = conn.execute(sa.select(role_permissions).where(role_permissions.c.role_id == role_id)
                        .order_by(role_permissions.c.id))
    return [_permission_json(r) for r in rows]


def _role_json(conn: Connection, row: sa.Row) -> Json:
    return {"id": row.id, "name": row.name, "workspace": row.workspace,
            "description": row.description, "permissions": role_permissions_of(conn, row.id)}


def get_role(conn: Connection, role_id: int) -> Json:
    row = conn.execute(sa.select(roles).where(roles.c.id == role_id)).first()
    if row is None:
        raise not_found(f"Role with id={role_id} not found")
    return _role_json(conn, row)


def check_name(name: str) -> None:
    """``__user_`` names are the per-user roles' own: an admin-made role may not take one, or it
    would be read as some user's direct grants (MLflow refuses them the same way)."""
    if name.startswith("__user_"):
        raise invalid_parameter(
            f"Role name {name!r} uses the reserved '__user_' prefix, which is held for the "
            "per-user permission representation. Choose a different name.")


def create_role(conn: Connection, workspace: str, name: str, description: str | None) -> Json:
    check_name(name)
    try:
        with conn.begin_nested():
            conn.execute(roles.insert().values(name=name, workspace=workspace,
                                               description=description))
    except IntegrityError:
        raise already_exists(f"Role (name={name}, workspace={workspace}) already exists.") from None
    role_id = conn.scalar(sa.select(roles.c.id).where(roles.c.workspace == workspace,
                                                      roles.c.name == name))
    assert role_id is not None
    return get_role(conn, int(role_id))


def list_roles(conn: Connection, workspace: str | None, member: int | None = None) -> list[Json]:
    """Roles of one workspace (every workspace when None); of one user when ``member``."""
    query = sa.select(roles).order_by(roles.c.id)
    if workspace is not None:
        query = query.where(roles.c.workspace == workspace)
    if member is not None:
        query = query.where(roles.c.id.in_(sa.select(user_role_assignments.c.role_id).where(
            user_role_assignments.c.user_id == member)))
    return [_role_json(conn, r) for r in conn.execute(query).fetchall()]


def update_role(conn: Connection, role_id: int, name: str | None,
                description: str | None) -> Json:
    current = get_role(conn, role_id)
    values: Json = {}
    if name is not None:
        check_name(name)
        values["name"] = name
    if description is not None:
        values["description"] = description
    if values:
        try:
            with conn.begin_nested():
                conn.execute(roles.update().where(roles.c.id == role_id).values(**values))
        except IntegrityError:
            raise already_exists(f"Role (name={name}, workspace={current['workspace']}) "
                                 "already exists.") from None
    return get_role(conn, role_id)


def delete_role(conn: Connection, role_id: int) -> None:
    get_role(conn, role_id)
    conn.execute(role_permissions.delete().where(role_permissions.c.role_id == role_id))
    conn.execute(user_role_assignments.delete().where(user_role_assignments.c.role_id == role_id))
    conn.execute(roles.delete().where(roles.c.id == role_id))


def add_permission(conn: Connection, role_id: int, resource_type: str, pattern: str,
                   permission: str) -> Json:
    get_role(conn, role_id)
    label = (f"Role permission (role_id={role_id}, resource_type={resource_type}, "
             f"resource_pattern={pattern}) already exists.")
    try:
        with conn.begin_nested():
            conn.execute(role_permissions.insert().values(
                role_id=role_id, resource_type=resource_type, resource_pattern=pattern,
                permission=permission))
    except IntegrityError:
        raise already_exists(label) from None
    row = conn.execute(sa.select(role_permissions).where(
        role_permissions.c.role_id == role_id, role_permissions.c.resource_type == resource_type,
        role_permissions.c.resource_pattern == pattern)).one()
    return _permission_json(row)


def get_permission(conn: Connection, permission_id: int) -> Json:
    row = conn.execute(sa.select(role_permissions)
                       .where(role_permissions.c.id == permission_id)).first()
    if row is None:
        raise not_found(f"Role permission with id={permission_id} not found")
    return _permission_json(row)


def update_permission(conn: Connection, permission_id: int, permission: str) -> Json:
    get_permission(conn, permission_id)
    conn.execute(role_permissions.update().where(role_permissions.c.id == permission_id)
                 .values(permission=permission))
    return get_permission(conn, permission_id)


def remove_permission(conn: Connection, permission_id: int) -> None:
    get_permission(conn, permission_id)
    conn.execute(role_permissions.delete().where(role_permissions.c.id == permission_id))


def _assignment(conn: Connection, user_id: int, role_id: int) -> sa.Row | None:
    return conn.execute(sa.select(user_role_assignments).where(
        user_role_assignments.c.user_id == user_id,
        user_role_assignments.c.role_id == role_id)).first()


def assign(conn: Connection, user_id: int, role_id: int) -> Json:
    get_role(conn, role_id)
    label = f"User role assignment (user_id={user_id}, role_id={role_id})"
    try:
        with conn.begin_nested():
            conn.execute(user_role_assignments.insert().values(user_id=user_id, role_id=role_id))
    except IntegrityError:
        raise already_exists(f"{label} already exists") from None
    row = _assignment(conn, user_id, role_id)
    assert row is not None
    return {"id": row.id, "user_id": row.user_id, "role_id": row.role_id}


def unassign(conn: Connection, user_id: int, role_id: int) -> None:
    row = _assignment(conn, user_id, role_id)
    if row is None:
        raise not_found(f"User role assignment (user_id={user_id}, role_id={role_id}) not found")
    conn.execute(user_role_assignments.delete().where(user_role_assignments.c.id == row.id))


def is_member(conn: Connection, user_id: int, role_id: int) -> bool:
    return _assignment(conn, user_id, role_id) is not None


def role_users(conn: Connection, role_id: int) -> list[Json]:
    get_role(conn, role_id)
    rows = conn.execute(sa.select(user_role_assignments)
                        .where(user_role_assignments.c.role_id == role_id)
                        .order_by(user_role_assignments.c.id))
    return [{"id": r.id, "user_id": r.user_id, "role_id": r.role_id} for r in rows]


def user_permissions(conn: Connection, user_id: int) -> list[Json]:
    """Every grant reaching a user, through any role, with the role it comes from."""
    rp, ura = role_permissions, user_role_assignments
    query = (sa.select(rp.c.resource_type, rp.c.resource_pattern, rp.c.permission,
                       roles.c.id.label("role_id"), roles.c.name, roles.c.workspace)
             .join(roles, roles.c.id == rp.c.role_id)
             .join(ura, ura.c.role_id == roles.c.id)
             .where(ura.c.user_id == user_id).order_by(roles.c.id, rp.c.id))
    return [{"resource_type": r.resource_type, "resource_pattern": r.resource_pattern,
             "permission": r.permission, "role_id": r.role_id, "role_name": r.name,
             "workspace": r.workspace} for r in conn.execute(query)]


def user_id_of(conn: Connection, username: str) -> int:
    found = conn.scalar(sa.select(users_table.c.id).where(users_table.c.username == username))
    if found is None:
        raise not_found(f"User with username={username} not found")
    return int(found)


__all__ = ["DEFAULT_WORKSPACE"]
