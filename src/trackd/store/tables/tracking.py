"""Tracking tables: experiments, runs and what hangs off them, datasets/inputs, logged models."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from ._common import DOUBLE, LIFECYCLE, MEDIUM_TEXT, flag, metadata, workspace_column

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, nullable=False, autoincrement=True),
    Column("name", String(256), nullable=False),
    Column("artifact_location", String(256)),
    Column("lifecycle_stage", String(32)),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    workspace_column(),
    PrimaryKeyConstraint("experiment_id", name="experiment_pk"),
    CheckConstraint(f"lifecycle_stage IN {LIFECYCLE}", name="experiments_lifecycle_stage"),
    UniqueConstraint("workspace", "name", name="uq_experiments_workspace_name"),
    Index("idx_experiments_workspace", "workspace"),
    Index("idx_experiments_workspace_creation_time", "workspace", "creation_time"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", MEDIUM_TEXT),
    Column("experiment_id", Integer, nullable=False),
    PrimaryKeyConstraint("key", "experiment_id", name="experiment_tag_pk"),
    ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"]),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("name", String(250)),
    Column("source_type", String(20)),
    Column("source_name", String(500)),
    Column("entry_point_name", String(50)),
    Column("user_id", String(256)),
    Column("status", String(9)),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("source_version", String(50)),
    Column("lifecycle_stage", String(20)),
    Column("artifact_uri", String(200)),
    Column("experiment_id", Integer),
    Column("deleted_time", BigInteger),
    PrimaryKeyConstraint("run_uuid", name="run_pk"),
    CheckConstraint(
        "source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')", name="source_type"
    ),
    CheckConstraint(f"lifecycle_stage IN {LIFECYCLE}", name="runs_lifecycle_stage"),
    CheckConstraint("status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED')"),
    ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"]),
)

tags = Table(
    "tags",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", String(8000)),
    Column("run_uuid", String(32), nullable=False),
    PrimaryKeyConstraint("key", "run_uuid", name="tag_pk"),
    ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"]),
    Index("index_tags_run_uuid", "run_uuid"),
)

params = Table(
    "params",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", String(8000), nullable=False),
    Column("run_uuid", String(32), nullable=False),
    PrimaryKeyConstraint("key", "run_uuid", name="param_pk"),
    ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"]),
    Index("index_params_run_uuid", "run_uuid"),
)

# Every logged point; the primary key covers the value so that exact duplicates collapse.
metrics = Table(
    "metrics",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", DOUBLE, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("run_uuid", String(32), nullable=False),
    Column("step", BigInteger, nullable=False, server_default=text("'0'")),
    Column("is_nan", flag(), nullable=False, server_default=false()),
    PrimaryKeyConstraint(
        "key", "timestamp", "step", "run_uuid", "value", "is_nan", name="metric_pk"
    ),
    ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"]),
    Index("index_metrics_run_uuid", "run_uuid"),
    Index("index_metrics_run_uuid_key_step", "run_uuid", "key", "step"),
)

# One row per (run, key): the point with the greatest (step, timestamp, value).
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("key", String(250), nullable=False),
    Column("value", DOUBLE, nullable=False),
    Column("timestamp", BigInteger),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", flag(), nullable=False),
    Column("run_uuid", String(32), nullable=False),
    PrimaryKeyConstraint("key", "run_uuid", name="latest_metric_pk"),
    ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"]),
    Index("index_latest_metrics_run_uuid", "run_uuid"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("dataset_source_type", String(36), nullable=False),
    Column("dataset_source", Text, nullable=False),
    Column("dataset_schema", MEDIUM_TEXT),
    Column("dataset_profile", MEDIUM_TEXT),
    PrimaryKeyConstraint("experiment_id", "name", "digest", name="dataset_pk"),
    ForeignKeyConstraint(
        ["experiment_id"],
        ["experiments.experiment_id"],
        name="fk_datasets_experiment_id_experiments",
        ondelete="CASCADE",
    ),
    Index("index_datasets_dataset_uuid", "dataset_uuid"),
    Index(
        "index_datasets_experiment_id_dataset_source_type", "experiment_id", "dataset_source_type"
    ),
)

# Links a source (e.g. DATASET, MODEL) to a destination (e.g. RUN); no foreign keys.
inputs = Table(
    "inputs",
    metadata,
    Column("input_uuid", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source_id", String(36), nullable=False),
    Column("destination_type", String(36), nullable=False),
    Column("destination_id", String(36), nullable=False),
    Column("step", BigInteger, nullable=False, server_default=text("'0'")),
    PrimaryKeyConstraint(
        "source_type", "source_id", "destination_type", "destination_id", name="inputs_pk"
    ),
    Index("index_inputs_input_uuid", "input_uuid"),
    Index(
        "index_inputs_destination_type_destination_id_source_type",
        "destination_type",
        "destination_id",
        "source_type",
    ),
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("input_uuid", String(36), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("input_uuid", "name", name="input_tags_pk"),
)

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(36), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("lifecycle_stage", String(32)),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", String(1000)),
    PrimaryKeyConstraint("model_id", name="logged_models_pk"),
    CheckConstraint(f"lifecycle_stage IN {LIFECYCLE}", name="logged_models_lifecycle_stage_check"),
    ForeignKeyConstraint(
        ["experiment_id"],
        ["experiments.experiment_id"],
        name="fk_logged_models_experiment_id",
        ondelete="CASCADE",
    ),
)


def _model_fks(table: str) -> tuple[ForeignKeyConstraint, ForeignKeyConstraint]:
    """The two foreign keys every logged_model_* child table carries."""
    return (
        ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], name=f"fk_{table}_experiment_id"
        ),
        ForeignKeyConstraint(
            ["model_id"],
            ["logged_models.model_id"],
            name=f"fk_{table}_model_id",
            ondelete="CASCADE",
        ),
    )


logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", String(36), nullable=False),
    Column("metric_name", String(500), nullable=False),
    Column("metric_timestamp_ms", BigInteger, nullable=False),
    Column("metric_step", BigInteger, nullable=False),
    Column("metric_value", DOUBLE),
    Column("experiment_id", Integer, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("dataset_uuid", String(36)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    PrimaryKeyConstraint(
        "model_id",
        "metric_name",
        "metric_timestamp_ms",
        "metric_step",
        "run_id",
        name="logged_model_metrics_pk",
    ),
    *_model_fks("logged_model_metrics"),
    ForeignKeyConstraint(
        ["run_id"],
        ["runs.run_uuid"],
        name="fk_logged_model_metrics_run_id",
        ondelete="CASCADE",
    ),
    Index("index_logged_model_metrics_model_id", "model_id"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(36), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("param_key", String(255), nullable=False),
    Column("param_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "param_key", name="logged_model_params_pk"),
    *_model_fks("logged_model_params"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(36), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("tag_key", String(255), nullable=False),
    Column("tag_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "tag_key", name="logged_model_tags_pk"),
    *_model_fks("logged_model_tags"),
)
