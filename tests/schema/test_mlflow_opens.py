"""Each server opens the other's database: trackd-built schemas work in mlflow 3.18, and back."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from trackd.store import schema, tables

from . import mlflow_side
from .conftest import SLOW_TIMEOUT, MlflowDatabase, engine_for, take_snapshot
from .test_same_schema import assert_same

pytestmark = [pytest.mark.schema, pytest.mark.timeout(SLOW_TIMEOUT)]


def _check_workflow(url: str, artifacts: Path) -> None:
    seen = mlflow_side.workflow(url, artifacts)
    assert seen["runs"] == [seen["run_id"]]
    assert seen["params"] == {"lr": "0.1"}
    assert seen["history"] == [0, 1]
    assert seen["alias_version"] == 1


def test_trackd_database_works_in_mlflow(db_kind: str, tmp_path: Path) -> None:
    with fresh_database(db_kind, tmp_path) as url:
        with engine_for(url) as engine:
            schema.upgrade(engine)  # the schema plus trackd's indexes, as users will have it
        before = take_snapshot(url, include_trackd=True)
        _check_workflow(url, tmp_path / "artifacts")
        # `mlflow db upgrade` finds the database at its head: nothing to do, nothing changed.
        mlflow_side.db_upgrade(url)
        assert_same(before, take_snapshot(url, include_trackd=True), ("before", "after"))
        with engine_for(url) as engine:
            assert schema.inspect_schema(engine) == schema.SchemaState("current", schema.HEAD)
            # What mlflow wrote reads back through trackd's table definitions.
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(tables.metrics.c.step, tables.metrics.c.is_nan).order_by(
                        tables.metrics.c.step
                    )
                ).all()
    assert [(r.step, bool(r.is_nan)) for r in rows] == [(0, True), (1, False)]


def test_mlflow_database_works_in_trackd(mlflow_database: MlflowDatabase, tmp_path: Path) -> None:
    url = mlflow_database.url
    with engine_for(url) as engine:
        assert schema.inspect_schema(engine) == schema.SchemaState("current", schema.HEAD)
        schema.upgrade(engine)  # only adds trackd_* indexes...
    # ... and leaves every one of mlflow's objects as it was (InnoDB's FK indexes included).
    assert_same(mlflow_database.snapshot, take_snapshot(url), ("mlflow", "after trackd upgrade"))
    with engine_for(url) as engine, engine.begin() as conn:
        conn.execute(
            tables.experiments.insert().values(
                name="from-trackd", lifecycle_stage="active", artifact_location="x"
            )
        )
        exp_id = conn.scalar(
            sa.select(tables.experiments.c.experiment_id).where(
                tables.experiments.c.name == "from-trackd"
            )
        )
    assert isinstance(exp_id, int)
    # mlflow still runs on it with trackd's rows and indexes in place.
    _check_workflow(url, tmp_path / "artifacts")
    mlflow_side.db_upgrade(url)
    with engine_for(url) as engine, engine.connect() as conn:
        values = conn.scalars(sa.select(tables.latest_metrics.c.value)).all()
    assert values and all(not math.isnan(v) for v in values)
