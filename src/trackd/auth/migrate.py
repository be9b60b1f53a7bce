"""``trackd auth upgrade``: bring an older MLflow auth database to MLflow 3.18's schema, in place.

Does what MLflow's auth migrations after 8606fa83a998 do, with trackd's own code:
1. create the tables later releases added (scorer, gateway and workspace grants; roles,
   role_permissions, user_role_assignments);
2. give ``registered_model_permissions`` its ``workspace`` column and unique key;
3. copy every grant of the per-resource tables into ``role_permissions``, on a per-user role
   ``__user_<id>__`` (the tables themselves are kept, as MLflow keeps them for a rollback);
4. mark registered-model grants on prompts as prompt grants, when the registry is in the same
   database;
5. record revision f1a2b3c4d5e6.
One difference, on purpose: a 2.x ``NO_PERMISSIONS`` grant on an experiment or model is kept
(MLflow's migration drops it and lets the default apply), because both servers read a stored
``NO_PERMISSIONS`` as "no access", which is what its author meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from trackd.auth.schema import auth_revision
from trackd.auth.store import synthetic_role_name
from trackd.auth.tables import (
    AUTH_HEAD,
    DEFAULT_WORKSPACE,
    VERSION_TABLE,
    alembic_version_auth,
    metadata,
    role_permissions,
    roles,
    trackd_metadata,
    user_role_assignments,
)
from trackd.config import ConfigError

# MLflow's auth revisions before the one that moved grants into roles (None: before 3.6,
# when the auth database had no version table).
_BEFORE_ROLES = {None, "8606fa83a998", "0965eb92f5f0", "a1b2c3d4e5f6", "2ed73881770d",
                 "c3d4e5f6a7b8"}
_KNOWN = _BEFORE_ROLES | {"e5f6a7b8c9d0", AUTH_HEAD}
_RESOURCE_GRANTS = {"READ", "USE", "EDIT", "MANAGE"}
_FAN_OUT_TYPES = ("experiment", "registered_model", "scorer", "gateway_secret",
                  "gateway_endpoint", "gateway_model_definition")


def upgrade_auth_database(engine: sa.Engine) -> str:
    """Upgrade in one transaction; returns what was done, for the command line."""
    with engine.begin() as conn:
        has_users, revision = auth_revision(conn)
        if not has_users and revision is None:
            metadata.create_all(conn)
            conn.execute(alembic_version_auth.insert().values(version_num=AUTH_HEAD))
            trackd_metadata.create_all(conn)
            return f"created MLflow's auth schema at {AUTH_HEAD}"
        if revision not in _KNOWN:
            raise ConfigError(f"the auth database is at revision {revision}, which this trackd "
                              "does not know (a newer MLflow?); it was left unchanged")
        if revision == AUTH_HEAD:
            trackd_metadata.create_all(conn)
            return f"the auth database is already at {AUTH_HEAD}"
        present = set(sa.inspect(conn).get_table_names())
        metadata.create_all(conn, tables=[t for t in metadata.sorted_tables
                                          if t.name not in present])
        _add_model_workspace(conn)
        if revision in _BEFORE_ROLES:
            _copy_grants(conn)
        if "registered_model_tags" in present:
            _promote_prompts(conn)
        conn.execute(alembic_version_auth.delete())
        conn.execute(alembic_version_auth.insert().values(version_num=AUTH_HEAD))
        trackd_metadata.create_all(conn)
    return f"upgraded the auth database from {revision or 'an unversioned schema'} to {AUTH_HEAD}"


def _add_model_workspace(conn: sa.Connection) -> None:
    inspector = sa.inspect(conn)
    if any(c["name"] == "workspace" for c in inspector.get_columns("registered_model_permissions")):
        return
    uniques = {u["name"] for u in inspector.get_unique_constraints("registered_model_permissions")}
    ops = Operations(MigrationContext.configure(conn))
    # SQLite cannot alter constraints in place: batch mode rebuilds the table there.
    with ops.batch_alter_table("registered_model_permissions", recreate="auto") as batch:
        batch.add_column(sa.Column("workspace", sa.String(63), nullable=False,
                                   server_default=sa.text(f"'{DEFAULT_WORKSPACE}'")))
    with ops.batch_alter_table("registered_model_permissions", recreate="auto") as batch:
        if "unique_name_user" in uniques:
            batch.drop_constraint("unique_name_user", type_="unique")
        batch.create_unique_constraint("unique_workspace_name_user",
                                       ["workspace", "name", "user_id"])


def _copy_grants(conn: sa.Connection) -> None:
    def rows(sql: str) -> Iterable[sa.Row]:
        return conn.execute(sa.text(sql)).fetchall()

    for r in rows("SELECT user_id, workspace, permission FROM workspace_permissions"):
        if r.permission == "EDIT":  # workspace-wide EDIT: member + EDIT on every resource type
            _grant(conn, r.user_id, r.workspace, "workspace", "*", "USE")
            for kind in _FAN_OUT_TYPES:
                _grant(conn, r.user_id, r.workspace, kind, "*", "EDIT")
        elif r.permission in ("READ", "USE", "MANAGE"):
            _grant(conn, r.user_id, r.workspace, "workspace", "*",
                   "USE" if r.permission == "READ" else r.permission)
    kept = _RESOURCE_GRANTS | {"NO_PERMISSIONS"}
    for r in rows("SELECT user_id, experiment_id, permission FROM experiment_permissions"):
        if r.permission in kept:
            _grant(conn, r.user_id, DEFAULT_WORKSPACE, "experiment", r.experiment_id,
                   r.permission)
    for r in rows("SELECT user_id, workspace, name, permission "
                  "FROM registered_model_permissions"):
        if r.permission in kept:
            _grant(conn, r.user_id, r.workspace, "registered_model", r.name, r.permission)
    for r in rows("SELECT user_id, experiment_id, scorer_name, permission "
                  "FROM scorer_permissions"):
        if r.permission in _RESOURCE_GRANTS:
            _grant(conn, r.user_id, DEFAULT_WORKSPACE, "scorer",
                   f"{r.experiment_id}/{quote(r.scorer_name, safe='')}", r.permission)
    for table, key, kind in (("gateway_secret_permissions", "secret_id", "gateway_secret"),
                             ("gateway_endpoint_permissions", "endpoint_id",
                              "gateway_endpoint"),
                             ("gateway_model_definition_permissions", "model_definition_id",
                              "gateway_model_definition")):
        for r in rows(f"SELECT user_id, {key} AS rid, permission FROM {table}"):
            if r.permission in _RESOURCE_GRANTS:
                _grant(conn, r.user_id, DEFAULT_WORKSPACE, kind, r.rid, r.permission)


def _grant(conn: sa.Connection, user_id: int, workspace: str, kind: str, pattern: str,
           permission: str) -> None:
    name = synthetic_role_name(user_id)
    find = sa.select(roles.c.id).where(roles.c.workspace == workspace, roles.c.name == name)
    role_id = conn.scalar(find)
    if role_id is None:
        conn.execute(roles.insert().values(name=name, workspace=workspace))
        role_id = conn.scalar(find)
    ura = user_role_assignments
    if conn.scalar(sa.select(ura.c.id).where(ura.c.user_id == user_id,
                                             ura.c.role_id == role_id)) is None:
        conn.execute(ura.insert().values(user_id=user_id, role_id=role_id))
    rp = role_permissions
    exists = conn.scalar(sa.select(rp.c.id).where(
        rp.c.role_id == role_id, rp.c.resource_type == kind, rp.c.resource_pattern == pattern))
    if exists is None:
        conn.execute(rp.insert().values(role_id=role_id, resource_type=kind,
                                        resource_pattern=pattern, permission=permission))


def _promote_prompts(conn: sa.Connection) -> None:
    """Grants on a registered model that is really a prompt become prompt grants."""
    conn.execute(sa.text(
        "UPDATE role_permissions SET resource_type = 'prompt' "
        "WHERE resource_type = 'registered_model' AND resource_pattern <> '*' "
        "AND resource_pattern IN (SELECT name FROM registered_model_tags "
        "WHERE key = 'mlflow.prompt.is_prompt' AND value = 'true')"
    ))


__all__ = ["VERSION_TABLE", "upgrade_auth_database"]
