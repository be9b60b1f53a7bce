"""MLflow 3.18's GenAI evaluation tables (datasets, scorers), for querying; the DDL lives in
trackd.migrations.baseline.genai.

Facts worth knowing:
- ``evaluation_dataset_records`` keeps ``inputs``, ``outputs``, ``expectations``, ``tags`` and
  ``source`` as JSON columns; MLflow writes a missing value as the JSON text ``null``, not SQL
  NULL, and wraps ``outputs`` as ``{"mlflow_wrapped": <outputs>}`` so that any JSON value fits.
- A record is keyed within its dataset by ``input_hash``: SHA-256 of ``json.dumps(inputs,
  sort_keys=True)`` (Python's default separators), unique per dataset.
- Which experiments a dataset belongs to lives in ``entity_associations``
  (``evaluation_dataset`` -> ``experiment``), not in a column.
- ``scorers`` are unique per (experiment, name); each registration adds a ``scorer_versions``
  row numbered from 1.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ._common import DOUBLE, metadata, workspace_column

evaluation_datasets = Table(
    "evaluation_datasets",
    metadata,
    Column("dataset_id", String(36), nullable=False),
    Column("name", String(255), nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    Column("digest", String(64)),
    Column("created_time", BigInteger),
    Column("last_update_time", BigInteger),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    workspace_column(),
    PrimaryKeyConstraint("dataset_id", name="evaluation_datasets_pk"),
    Index("idx_evaluation_datasets_workspace", "workspace"),
    Index("index_evaluation_datasets_created_time", "created_time"),
    Index("index_evaluation_datasets_name", "name"),
)

evaluation_dataset_tags = Table(
    "evaluation_dataset_tags",
    metadata,
    Column("dataset_id", String(36), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(5000)),
    PrimaryKeyConstraint("dataset_id", "key", name="evaluation_dataset_tags_pk"),
    ForeignKeyConstraint(["dataset_id"], ["evaluation_datasets.dataset_id"],
                         name="fk_evaluation_dataset_tags_dataset_id", ondelete="CASCADE"),
    Index("index_evaluation_dataset_tags_dataset_id", "dataset_id"),
)

evaluation_dataset_records = Table(
    "evaluation_dataset_records",
    metadata,
    Column("dataset_record_id", String(36), nullable=False),
    Column("dataset_id", String(36), nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("expectations", JSON),
    Column("tags", JSON),
    Column("source", JSON),
    Column("source_id", String(36)),
    Column("source_type", String(255)),
    Column("created_time", BigInteger),
    Column("last_update_time", BigInteger),
    Column("created_by", String(255)),
    Column("last_updated_by", String(255)),
    Column("input_hash", String(64), nullable=False),
    Column("outputs", JSON),
    PrimaryKeyConstraint("dataset_record_id", name="evaluation_dataset_records_pk"),
    UniqueConstraint("dataset_id", "input_hash", name="unique_dataset_input"),
    ForeignKeyConstraint(["dataset_id"], ["evaluation_datasets.dataset_id"],
                         name="fk_evaluation_dataset_records_dataset_id", ondelete="CASCADE"),
    Index("index_evaluation_dataset_records_dataset_id", "dataset_id"),
)

scorers = Table(
    "scorers",
    metadata,
    Column("experiment_id", Integer, nullable=False),
    Column("scorer_name", String(256), nullable=False),
    Column("scorer_id", String(36), nullable=False),
    PrimaryKeyConstraint("scorer_id", name="scorer_pk"),
    ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"],
                         name="fk_scorers_experiment_id", ondelete="CASCADE"),
    Index("index_scorers_experiment_id_scorer_name", "experiment_id", "scorer_name",
          unique=True),
)

scorer_versions = Table(
    "scorer_versions",
    metadata,
    Column("scorer_id", String(36), nullable=False),
    Column("scorer_version", Integer, nullable=False),
    Column("serialized_scorer", Text, nullable=False),
    Column("creation_time", BigInteger),
    PrimaryKeyConstraint("scorer_id", "scorer_version", name="scorer_version_pk"),
    ForeignKeyConstraint(["scorer_id"], ["scorers.scorer_id"],
                         name="fk_scorer_versions_scorer_id", ondelete="CASCADE"),
    Index("index_scorer_versions_scorer_id", "scorer_id"),
)

online_scoring_configs = Table(
    "online_scoring_configs",
    metadata,
    Column("online_scoring_config_id", String(36), nullable=False),
    Column("scorer_id", String(36), nullable=False),
    Column("sample_rate", DOUBLE, nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("filter_string", Text),
    PrimaryKeyConstraint("online_scoring_config_id", name="online_scoring_config_pk"),
    ForeignKeyConstraint(["experiment_id"], ["experiments.experiment_id"],
                         name="fk_online_scoring_configs_experiment_id"),
    ForeignKeyConstraint(["scorer_id"], ["scorers.scorer_id"],
                         name="fk_online_scoring_configs_scorer_id", ondelete="CASCADE"),
)
