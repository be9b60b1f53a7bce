"""SQL for ``trackd gc``: find what was deleted long enough ago, and remove it for good.

Every row is deleted explicitly, children first, in an order that satisfies MLflow's foreign
keys on every dialect: SQLite does not enforce them (so ``ON DELETE CASCADE`` never runs there)
and several are declared without a cascade anyway. Each function is one bounded unit of work,
run in its own transaction by the caller, so an interrupted gc leaves a consistent database and
a rerun carries on where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from trackd.store import traces

_c = sa.column


def _t(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(_c(c) for c in columns))


runs = _t("runs", "run_uuid", "experiment_id", "lifecycle_stage", "deleted_time", "artifact_uri")
experiments = _t("experiments", "experiment_id", "lifecycle_stage", "last_update_time",
                 "artifact_location")
logged_models = _t("logged_models", "model_id", "experiment_id", "lifecycle_stage",
                   "last_updated_timestamp_ms", "artifact_location")
inputs = _t("inputs", "input_uuid", "source_type", "source_id", "destination_type",
            "destination_id")
input_tags = _t("input_tags", "input_uuid")
datasets = _t("datasets", "dataset_uuid", "experiment_id")
trace_info = _t("trace_info", "request_id", "experiment_id")
issues = _t("issues", "issue_id", "experiment_id", "source_run_id")
scorers = _t("scorers", "scorer_id", "experiment_id")
review_queues = _t("review_queues", "queue_id", "experiment_id")
endpoints = _t("endpoints", "endpoint_id", "experiment_id")

# Rows keyed by run id (metrics can be millions of rows: deleted on their own first).
_RUN_CHILDREN = (("latest_metrics", "run_uuid"), ("params", "run_uuid"), ("tags", "run_uuid"),
                 ("logged_model_metrics", "run_id"))
_MODEL_CHILDREN = ("logged_model_metrics", "logged_model_params", "logged_model_tags")
# Experiment-keyed tables without their own children, deleted last before the experiment.
_EXPERIMENT_ROWS = ("experiment_tags", "label_schemas", "sql_assessment_daily_rollups",
                    "sql_span_cost_daily_rollups", "sql_trace_metric_daily_rollups",
                    "sql_trace_rollup_rebuild_queue", "logged_model_metrics",
                    "logged_model_params", "logged_model_tags", "online_scoring_configs",
                    "spans", "assessments")


@dataclass(frozen=True)
class Doomed:
    """A row chosen for deletion and the artifact root that goes with it."""

    id: str
    artifact_uri: str | None


def deleted_runs(conn: Connection, cutoff_ms: int, limit: int, *,
                 run_ids: Sequence[str] | None = None,
                 after: str = "") -> list[Doomed]:
    """Runs soft-deleted at or before ``cutoff_ms``, by id, ``limit`` at a time."""
    query = (sa.select(runs.c.run_uuid, runs.c.artifact_uri)
             .where(runs.c.lifecycle_stage == "deleted", runs.c.deleted_time <= cutoff_ms,
                    runs.c.run_uuid > after)
             .order_by(runs.c.run_uuid).limit(limit))
    if run_ids is not None:
        query = query.where(runs.c.run_uuid.in_(run_ids))
    return [Doomed(r, u) for r, u in conn.execute(query)]


def runs_of_experiment(conn: Connection, experiment_id: int, limit: int) -> list[Doomed]:
    """Any runs still in the experiment, whatever their stage: it is going away whole."""
    query = (sa.select(runs.c.run_uuid, runs.c.artifact_uri)
             .where(runs.c.experiment_id == experiment_id).order_by(runs.c.run_uuid).limit(limit))
    return [Doomed(r, u) for r, u in conn.execute(query)]


def deleted_experiments(conn: Connection, cutoff_ms: int, *,
                        experiment_ids: Sequence[int] | None = None) -> list[Doomed]:
    query = (sa.select(experiments.c.experiment_id, experiments.c.artifact_location)
             .where(experiments.c.lifecycle_stage == "deleted",
                    experiments.c.last_update_time <= cutoff_ms)
             .order_by(experiments.c.experiment_id))
    if experiment_ids is not None:
        query = query.where(experiments.c.experiment_id.in_(experiment_ids))
    return [Doomed(str(e), a) for e, a in conn.execute(query)]


def experiment_states(conn: Connection, experiment_ids: Sequence[int]
                      ) -> dict[str, tuple[str, int | None]]:
    query = sa.select(experiments.c.experiment_id, experiments.c.lifecycle_stage,
                      experiments.c.last_update_time).where(
        experiments.c.experiment_id.in_(experiment_ids))
    return {str(e): (s, t) for e, s, t in conn.execute(query)}


def run_states(conn: Connection, run_ids: Sequence[str]) -> dict[str, tuple[str, int | None]]:
    query = sa.select(runs.c.run_uuid, runs.c.lifecycle_stage, runs.c.deleted_time).where(
        runs.c.run_uuid.in_(run_ids))
    return {r: (s, t) for r, s, t in conn.execute(query)}


def deleted_logged_models(conn: Connection, cutoff_ms: int, limit: int, *,
                          experiment_id: int | None = None, after: str = "") -> list[Doomed]:
    """Soft-deleted logged models, or every model of one experiment that is going away."""
    query = (sa.select(logged_models.c.model_id, logged_models.c.artifact_location)
             .where(logged_models.c.model_id > after)
             .order_by(logged_models.c.model_id).limit(limit))
    if experiment_id is None:
        query = query.where(logged_models.c.lifecycle_stage == "deleted",
                            logged_models.c.last_updated_timestamp_ms <= cutoff_ms)
    else:
        query = query.where(logged_models.c.experiment_id == experiment_id)
    return [Doomed(m, a) for m, a in conn.execute(query)]


def delete_run_metrics(conn: Connection, run_id: str) -> int:
    """The one big table, alone in its transaction so that run rows stay small units."""
    return conn.execute(sa.text("DELETE FROM metrics WHERE run_uuid = :r"), {"r": run_id}).rowcount


def delete_runs(conn: Connection, run_ids: Sequence[str]) -> None:
    if not run_ids:
        return
    ids = list(run_ids)
    _delete_inputs(conn, sa.or_(
        sa.and_(inputs.c.destination_type == "RUN", inputs.c.destination_id.in_(ids)),
        sa.and_(inputs.c.source_type == "RUN_OUTPUT", inputs.c.source_id.in_(ids))))
    conn.execute(sa.delete(_t("metrics", "run_uuid")).where(_c("run_uuid").in_(ids)))
    for table, column in _RUN_CHILDREN:
        conn.execute(sa.delete(_t(table, column)).where(_c(column).in_(ids)))
    # An issue outlives the run it was found in (MLflow's FK: ON DELETE SET NULL).
    conn.execute(sa.update(issues).where(issues.c.source_run_id.in_(ids))
                 .values(source_run_id=None))
    conn.execute(sa.delete(runs).where(runs.c.run_uuid.in_(ids)))


def delete_logged_models(conn: Connection, model_ids: Sequence[str]) -> None:
    if not model_ids:
        return
    ids = list(model_ids)
    _delete_inputs(conn, sa.or_(inputs.c.destination_id.in_(ids), inputs.c.source_id.in_(ids)))
    for table in _MODEL_CHILDREN:
        conn.execute(sa.delete(_t(table, "model_id")).where(_c("model_id").in_(ids)))
    conn.execute(sa.delete(logged_models).where(logged_models.c.model_id.in_(ids)))


def delete_traces(conn: Connection, experiment_id: int, limit: int) -> int:
    """One batch of an experiment's traces with their spans, tags and assessments."""
    ids = list(conn.scalars(sa.select(trace_info.c.request_id)
                            .where(trace_info.c.experiment_id == experiment_id).limit(limit)))
    traces.delete_traces(conn, ids)
    return len(ids)


def delete_experiment_rows(conn: Connection, experiment_id: int) -> None:
    """Everything else keyed by the experiment, then the experiment: its name is free again."""
    dataset_ids = sa.select(datasets.c.dataset_uuid).where(
        datasets.c.experiment_id == experiment_id)
    _delete_inputs(conn, sa.and_(inputs.c.source_type == "DATASET",
                                 inputs.c.source_id.in_(dataset_ids)))
    conn.execute(sa.delete(datasets).where(datasets.c.experiment_id == experiment_id))
    for table in _EXPERIMENT_ROWS:
        conn.execute(sa.delete(_t(table, "experiment_id"))
                     .where(_c("experiment_id") == experiment_id))
    issue_ids = sa.select(issues.c.issue_id).where(issues.c.experiment_id == experiment_id)
    conn.execute(sa.delete(_t("issue_categories", "issue_id")).where(_c("issue_id").in_(issue_ids)))
    conn.execute(sa.delete(issues).where(issues.c.experiment_id == experiment_id))
    scorer_ids = sa.select(scorers.c.scorer_id).where(scorers.c.experiment_id == experiment_id)
    for table in ("online_scoring_configs", "scorer_versions"):
        conn.execute(sa.delete(_t(table, "scorer_id")).where(_c("scorer_id").in_(scorer_ids)))
    conn.execute(sa.delete(scorers).where(scorers.c.experiment_id == experiment_id))
    queue_ids = sa.select(review_queues.c.queue_id).where(
        review_queues.c.experiment_id == experiment_id)
    for table in ("review_queue_items", "review_queue_label_schemas", "review_queue_users"):
        conn.execute(sa.delete(_t(table, "queue_id")).where(_c("queue_id").in_(queue_ids)))
    conn.execute(sa.delete(review_queues).where(review_queues.c.experiment_id == experiment_id))
    conn.execute(sa.update(endpoints).where(endpoints.c.experiment_id == experiment_id)
                 .values(experiment_id=None))
    conn.execute(sa.delete(experiments).where(experiments.c.experiment_id == experiment_id))


def _delete_inputs(conn: Connection, where: sa.ColumnElement[bool]) -> None:
    # input_tags has no FK to inputs in MLflow's schema, so it is cleared by hand first.
    doomed = [r for (r,) in conn.execute(sa.select(inputs.c.input_uuid).where(where))]
    for start in range(0, len(doomed), 500):
        chunk = doomed[start:start + 500]
        conn.execute(sa.delete(input_tags).where(input_tags.c.input_uuid.in_(chunk)))
        conn.execute(sa.delete(inputs).where(inputs.c.input_uuid.in_(chunk)))
