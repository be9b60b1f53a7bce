"""The auth database: MLflow basic-auth's schema (alembic head f1a2b3c4d5e6), plus trackd's tokens.

Every table, column, constraint and index name below is the one MLflow 3.18's auth migrations
create, so a database made by either server opens in the other. Since MLflow 3.18 grants live
in ``role_permissions`` only; the older per-resource tables (``experiment_permissions`` ...)
are kept, as MLflow keeps them, for a manual rollback, and are never read.

``trackd_auth_tokens`` is trackd's own (the ``trackd_`` prefix keeps it clear of any future
MLflow migration): bearer tokens for jobs, stored as SHA-256 digests.
"""

from __future__ import annotations

import sqlalchemy as sa

AUTH_HEAD = "f1a2b3c4d5e6"
VERSION_TABLE = "alembic_version_auth"
DEFAULT_WORKSPACE = "default"

metadata = sa.MetaData()


def _legacy_grant_table(name: str, key: str, key_length: int, fk: str, unique: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(key, sa.String(key_length), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("permission", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=fk),
        sa.UniqueConstraint(key, "user_id", name=unique),
    )


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(255), nullable=True, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=True),
)

experiment_permissions = _legacy_grant_table(
    "experiment_permissions", "experiment_id", 255, "fk_user_id", "unique_experiment_user"
)

registered_model_permissions = sa.Table(
    "registered_model_permissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("permission", sa.String(255), nullable=True),
    sa.Column("workspace", sa.String(63), nullable=False,
              server_default=sa.text(f"'{DEFAULT_WORKSPACE}'")),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_id"),
    sa.UniqueConstraint("workspace", "name", "user_id", name="unique_workspace_name_user"),
)

scorer_permissions = sa.Table(
    "scorer_permissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("experiment_id", sa.String(255), nullable=False),
    sa.Column("scorer_name", sa.String(256), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("permission", sa.String(255), nullable=True),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_scorer_perm_user_id"),
    sa.UniqueConstraint("experiment_id", "scorer_name", "user_id", name="unique_scorer_user"),
)

gateway_secret_permissions = _legacy_grant_table(
    "gateway_secret_permissions", "secret_id", 255, "fk_gateway_secret_perm_user_id",
    "unique_secret_user",
)
gateway_endpoint_permissions = _legacy_grant_table(
    "gateway_endpoint_permissions", "endpoint_id", 255, "fk_gateway_endpoint_perm_user_id",
    "unique_endpoint_user",
)
gateway_model_definition_permissions = _legacy_grant_table(
    "gateway_model_definition_permissions", "model_definition_id", 255,
    "fk_gateway_model_def_perm_user_id", "unique_model_def_user",
)

workspace_permissions = sa.Table(
    "workspace_permissions",
    metadata,
    sa.Column("workspace", sa.String(63), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("workspace", "user_id", name="workspace_permissions_pk"),
    sa.Index("idx_workspace_permissions_user_id", "user_id"),
    sa.Index("idx_workspace_permissions_workspace", "workspace"),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("workspace", sa.String(63), nullable=False),
    sa.Column("description", sa.String(1024), nullable=True),
    sa.UniqueConstraint("workspace", "name", name="unique_workspace_role_name"),
    sa.Index("idx_roles_workspace", "workspace"),
)

role_permissions = sa.Table(
    "role_permissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), nullable=False),
    sa.Column("resource_type", sa.String(64), nullable=False),
    sa.Column("resource_pattern", sa.String(255), nullable=False),
    sa.Column("permission", sa.String(255), nullable=False),
    sa.UniqueConstraint("role_id", "resource_type", "resource_pattern",
                        name="unique_role_resource_perm"),
    sa.Index("idx_role_permissions_role_id", "role_id"),
)

user_role_assignments = sa.Table(
    "user_role_assignments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), nullable=False),
    sa.UniqueConstraint("user_id", "role_id", name="unique_user_role"),
    sa.Index("idx_user_role_assignments_user_id", "user_id"),
    sa.Index("idx_user_role_assignments_role_id", "role_id"),
)

# MLflow's alembic version table for the auth database (its own name, beside the tracking one).
alembic_version_auth = sa.Table(
    VERSION_TABLE,
    metadata,
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_auth_pkc"),
)

# Tables whose rows reference users.id without ON DELETE CASCADE: deleting a user clears them
# first, as MLflow does.
LEGACY_GRANT_TABLES = (
    experiment_permissions,
    registered_model_permissions,
    scorer_permissions,
    gateway_secret_permissions,
    gateway_endpoint_permissions,
    gateway_model_definition_permissions,
    workspace_permissions,
)

MLFLOW_TABLES = frozenset(t.name for t in metadata.tables.values())

# -- trackd's own ------------------------------------------------------------------------------

trackd_metadata = sa.MetaData()

auth_tokens = sa.Table(
    "trackd_auth_tokens",
    trackd_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash is as good as a slow
    # one and keeps every request's check to one indexed lookup.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
)
