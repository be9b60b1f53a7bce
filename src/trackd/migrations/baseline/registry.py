"""Model registry (registered models, versions, tags, aliases), webhooks and workspaces.

Frozen DDL of MLflow 3.18 (alembic head f4a9b2c7d1e6); never import live table code here.
"""

from __future__ import annotations

import sqlalchemy as sa

from ._types import only_on


def registry_tables(meta: sa.MetaData, dialect: str) -> list[sa.Table]:
    """Add these tables to ``meta`` as they exist on ``dialect``; return them."""
    return [
        sa.Table(
            "registered_models",
            meta,
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("creation_time", sa.BigInteger()),
            sa.Column("last_updated_time", sa.BigInteger()),
            sa.Column("description", sa.String(5000)),
            sa.Column("workspace", sa.String(63), nullable=False, server_default="default"),
            sa.PrimaryKeyConstraint("workspace", "name", name="registered_model_pk"),
            sa.Index("idx_registered_models_workspace", "workspace"),
        ),
        sa.Table(
            "registered_model_tags",
            meta,
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(5000)),
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("workspace", sa.String(63), nullable=False, server_default="default"),
            sa.PrimaryKeyConstraint("workspace", "key", "name", name="registered_model_tag_pk"),
            sa.ForeignKeyConstraint(
                ["workspace", "name"],
                ["registered_models.workspace", "registered_models.name"],
                name="fk_registered_model_tags_registered_models",
                onupdate="CASCADE",
            ),
            sa.Index("idx_registered_model_tags_workspace_name", "workspace", "name"),
            # InnoDB's index for the foreign key on `name` that predates workspaces; the FK was
            # replaced by (workspace, name) but the index it created stayed behind.
            *only_on(dialect, "mysql", sa.Index("name", "name")),
        ),
        sa.Table(
            "model_versions",
            meta,
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("creation_time", sa.BigInteger()),
            sa.Column("last_updated_time", sa.BigInteger()),
            sa.Column("description", sa.String(5000)),
            sa.Column("user_id", sa.String(256)),
            sa.Column("current_stage", sa.String(20)),
            sa.Column("source", sa.String(500)),
            sa.Column("run_id", sa.String(32)),
            sa.Column("status", sa.String(20)),
            sa.Column("status_message", sa.String(500)),
            sa.Column("run_link", sa.String(500)),
            sa.Column("storage_location", sa.String(500)),
            sa.Column("workspace", sa.String(63), nullable=False, server_default="default"),
            sa.PrimaryKeyConstraint("workspace", "name", "version", name="model_version_pk"),
            sa.ForeignKeyConstraint(
                ["workspace", "name"],
                ["registered_models.workspace", "registered_models.name"],
                name="fk_model_versions_registered_models",
                onupdate="CASCADE",
            ),
        ),
        sa.Table(
            "model_version_tags",
            meta,
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text()),
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("workspace", sa.String(63), nullable=False, server_default="default"),
            sa.PrimaryKeyConstraint(
                "workspace", "key", "name", "version", name="model_version_tag_pk"
            ),
            sa.ForeignKeyConstraint(
                ["workspace", "name", "version"],
                ["model_versions.workspace", "model_versions.name", "model_versions.version"],
                name="fk_model_version_tags_model_versions",
                onupdate="CASCADE",
            ),
            sa.Index(
                "idx_model_version_tags_workspace_name_version",
                "workspace",
                "name",
                "version",
            ),
            # Same story as registered_model_tags.name: left by the pre-workspace foreign key.
            *only_on(dialect, "mysql", sa.Index("name", "name", "version")),
        ),
        sa.Table(
            "registered_model_aliases",
            meta,
            sa.Column("alias", sa.String(256), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("workspace", sa.String(63), nullable=False, server_default="default"),
            sa.PrimaryKeyConstraint("workspace", "name", "alias", name="registered_model_alias_pk"),
            sa.ForeignKeyConstraint(
                ["workspace", "name"],
                ["registered_models.workspace", "registered_models.name"],
                name="fk_registered_model_aliases_registered_models",
                ondelete="CASCADE",
                onupdate="CASCADE",
            ),
        ),
        sa.Table(
            "webhooks",
            meta,
            sa.Column("webhook_id", sa.String(256), nullable=False),
            sa.Column("name", sa.String(256), nullable=False),
            sa.Column("description", sa.String(1000)),
            sa.Column("url", sa.String(500), nullable=False),
            sa.Column("status", sa.String(20), nullable=False, server_default="ACTIVE"),
            sa.Column("secret", sa.String(1000)),
            sa.Column("creation_timestamp", sa.BigInteger()),
            sa.Column("last_updated_timestamp", sa.BigInteger()),
            sa.Column("deleted_timestamp", sa.BigInteger()),
            sa.Column("workspace", sa.String(63), nullable=False, server_default="default"),
            sa.PrimaryKeyConstraint("webhook_id", name="webhook_pk"),
            sa.Index("idx_webhooks_name", "name"),
            sa.Index("idx_webhooks_status", "status"),
            sa.Index("idx_webhooks_workspace", "workspace"),
        ),
        sa.Table(
            "webhook_events",
            meta,
            sa.Column("webhook_id", sa.String(256), nullable=False),
            sa.Column("entity", sa.String(50), nullable=False),
            sa.Column("action", sa.String(50), nullable=False),
            sa.PrimaryKeyConstraint("webhook_id", "entity", "action", name="webhook_event_pk"),
            sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.webhook_id"], ondelete="CASCADE"),
            sa.Index("idx_webhook_events_action", "action"),
            sa.Index("idx_webhook_events_entity", "entity"),
            sa.Index("idx_webhook_events_entity_action", "entity", "action"),
        ),
        sa.Table(
            "workspaces",
            meta,
            sa.Column("name", sa.String(63), nullable=False),
            sa.Column("description", sa.Text()),
            sa.Column("default_artifact_root", sa.Text()),
            sa.Column("trace_archival_location", sa.Text()),
            sa.Column("trace_archival_retention", sa.String(32)),
            sa.PrimaryKeyConstraint("name", name="workspaces_pk"),
        ),
    ]
