"""Model registry tables, plus entity_associations (prompt/run links)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from ._common import metadata, workspace_column

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(256), nullable=False),
    Column("creation_time", BigInteger),
    Column("last_updated_time", BigInteger),
    Column("description", String(5000)),
    workspace_column(),
    PrimaryKeyConstraint("workspace", "name", name="registered_model_pk"),
    Index("idx_registered_models_workspace", "workspace"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", String(5000)),
    Column("name", String(256), nullable=False),
    workspace_column(),
    PrimaryKeyConstraint("workspace", "key", "name", name="registered_model_tag_pk"),
    ForeignKeyConstraint(
        ["workspace", "name"],
        ["registered_models.workspace", "registered_models.name"],
        name="fk_registered_model_tags_registered_models",
        onupdate="CASCADE",
    ),
    Index("idx_registered_model_tags_workspace_name", "workspace", "name"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger),
    Column("last_updated_time", BigInteger),
    Column("description", String(5000)),
    Column("user_id", String(256)),
    Column("current_stage", String(20)),
    Column("source", String(500)),
    Column("run_id", String(32)),
    Column("status", String(20)),
    Column("status_message", String(500)),
    Column("run_link", String(500)),
    Column("storage_location", String(500)),
    workspace_column(),
    PrimaryKeyConstraint("workspace", "name", "version", name="model_version_pk"),
    ForeignKeyConstraint(
        ["workspace", "name"],
        ["registered_models.workspace", "registered_models.name"],
        name="fk_model_versions_registered_models",
        onupdate="CASCADE",
    ),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", Text),
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    workspace_column(),
    PrimaryKeyConstraint("workspace", "key", "name", "version", name="model_version_tag_pk"),
    ForeignKeyConstraint(
        ["workspace", "name", "version"],
        ["model_versions.workspace", "model_versions.name", "model_versions.version"],
        name="fk_model_version_tags_model_versions",
        onupdate="CASCADE",
    ),
    Index("idx_model_version_tags_workspace_name_version", "workspace", "name", "version"),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(256), nullable=False),
    workspace_column(),
    PrimaryKeyConstraint("workspace", "name", "alias", name="registered_model_alias_pk"),
    ForeignKeyConstraint(
        ["workspace", "name"],
        ["registered_models.workspace", "registered_models.name"],
        name="fk_registered_model_aliases_registered_models",
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

# Generic links between entities (e.g. a prompt version and a run); no foreign keys.
entity_associations = Table(
    "entity_associations",
    metadata,
    Column("association_id", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source_id", String(36), nullable=False),
    Column("destination_type", String(36), nullable=False),
    Column("destination_id", String(36), nullable=False),
    Column("created_time", BigInteger),
    PrimaryKeyConstraint(
        "source_type",
        "source_id",
        "destination_type",
        "destination_id",
        name="entity_associations_pk",
    ),
    Index("index_entity_associations_association_id", "association_id"),
    Index(
        "index_entity_associations_reverse_lookup",
        "destination_type",
        "destination_id",
        "source_type",
        "source_id",
    ),
)
