"""MLflow 3.18's tracking and registry tables (alembic head f4a9b2c7d1e6), as SQLAlchemy Core.

These objects are for *querying*: names, types, nullability, server defaults and keys match what
MLflow's migrations leave in the database (read from real databases that mlflow 3.18 created on
SQLite, PostgreSQL and MariaDB). The DDL itself is owned by ``trackd.migrations`` (which never
imports this module), so ``metadata.create_all`` is never used to build a real schema.

Facts worth knowing when writing queries against them:
- ``experiments.experiment_id`` is an auto-increment integer (SERIAL on PostgreSQL,
  AUTO_INCREMENT on MySQL, the rowid on SQLite); leave it out of an INSERT to get a new id.
- Metric values are double precision everywhere; NaN is stored as ``value=0`` with
  ``is_nan=true`` because not every database can hold a NaN; +/-inf is stored as
  +/-1.7976931348623157e308 (the largest double) for the same reason.
- Registry tables are keyed by ``workspace`` first; single-tenant servers use ``'default'``.
- ``runs.status`` is VARCHAR(9) in the database although MLflow's ORM model says 20.
"""

from __future__ import annotations

from ._common import metadata
from .genai import (
    evaluation_dataset_records,
    evaluation_dataset_tags,
    evaluation_datasets,
    online_scoring_configs,
    scorer_versions,
    scorers,
)
from .registry import (
    entity_associations,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from .traces import trace_info, trace_request_metadata, trace_tags
from .tracking import (
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    inputs,
    latest_metrics,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    metrics,
    params,
    runs,
    tags,
)

__all__ = [
    "metadata",
    "experiments",
    "experiment_tags",
    "runs",
    "tags",
    "params",
    "metrics",
    "latest_metrics",
    "datasets",
    "inputs",
    "input_tags",
    "logged_models",
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "registered_model_aliases",
    "entity_associations",
    "trace_info",
    "trace_tags",
    "trace_request_metadata",
    "evaluation_datasets",
    "evaluation_dataset_tags",
    "evaluation_dataset_records",
    "scorers",
    "scorer_versions",
    "online_scoring_configs",
]
