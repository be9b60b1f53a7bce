"""inspect_schema's verdicts, upgrade()'s refusals and idempotence, and the outdated message."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from trackd.store import schema
from trackd.store.schema import HEAD, KNOWN_MLFLOW_REVISIONS, SchemaError, SchemaState

from .conftest import SLOW_TIMEOUT, engine_for, take_snapshot

pytestmark = [pytest.mark.schema, pytest.mark.timeout(SLOW_TIMEOUT)]

OLDER = "75868b020152"  # an MLflow 3.x revision a few steps before HEAD
UNKNOWN = "0123abcd4567"


def _set_revision(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_known_revisions_are_mlflows_history() -> None:
    assert len(KNOWN_MLFLOW_REVISIONS) == len(set(KNOWN_MLFLOW_REVISIONS)) == 69
    assert HEAD not in KNOWN_MLFLOW_REVISIONS
    assert KNOWN_MLFLOW_REVISIONS[0] == "451aebb31d03"  # MLflow's first revision
    assert OLDER in KNOWN_MLFLOW_REVISIONS


def test_states_and_upgrade(db_kind: str, tmp_path: Path) -> None:
    with fresh_database(db_kind, tmp_path) as url, engine_for(url) as engine:
        # Unrelated tables do not make a database non-empty for trackd.
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE unrelated (id INTEGER PRIMARY KEY)"))
        assert schema.inspect_schema(engine) == SchemaState("empty", None)

        schema.create_schema(engine)
        assert schema.inspect_schema(engine) == SchemaState("current", HEAD)
        with pytest.raises(SchemaError, match="not empty"):
            schema.create_schema(engine)

        first = schema.upgrade(engine)
        names = schema.trackd_index_names(engine.dialect.name)
        assert all(name in first for name in names)
        after_first = take_snapshot(url, include_trackd=True)
        second = schema.upgrade(engine)
        assert "present" in second and not any(name in second for name in names)
        assert take_snapshot(url, include_trackd=True) == after_first

        _set_revision(engine, OLDER)
        older = schema.inspect_schema(engine)
        assert older == SchemaState("older", OLDER)
        with pytest.raises(SchemaError) as refused:
            schema.upgrade(engine)
        message = str(refused.value)
        assert message == schema.outdated_message(older, url)
        assert OLDER in message and HEAD in message
        assert "pip install 'mlflow==3.18.0' && mlflow db upgrade" in message
        assert "trackd db upgrade" in message

        _set_revision(engine, UNKNOWN)
        assert schema.inspect_schema(engine) == SchemaState("newer", UNKNOWN)
        with pytest.raises(SchemaError, match=UNKNOWN):
            schema.upgrade(engine)
        # Refusals changed nothing but the revision this test wrote.
        _set_revision(engine, HEAD)
        assert take_snapshot(url, include_trackd=True) == after_first

        # MLflow tables but no alembic_version: MLflow from before it versioned its schema.
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
        unversioned = schema.inspect_schema(engine)
        assert unversioned == SchemaState("older", None)
        assert "mlflow db upgrade" in schema.outdated_message(unversioned, url)
        with pytest.raises(SchemaError):
            schema.upgrade(engine)


def test_foreign_alembic_version_is_refused(db_kind: str, tmp_path: Path) -> None:
    with fresh_database(db_kind, tmp_path) as url, engine_for(url) as engine:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            conn.execute(sa.text(f"INSERT INTO alembic_version VALUES ('{UNKNOWN}')"))
        with pytest.raises(SchemaError, match="another application"):
            schema.inspect_schema(engine)


def test_outdated_message_hides_the_password() -> None:
    url = "postgresql+psycopg://alice:s3cret@db.example:5432/mlflow"
    message = schema.outdated_message(SchemaState("older", OLDER), url)
    assert "s3cret" not in message
    assert "postgresql+psycopg://alice:***@db.example:5432/mlflow" in message
    assert f"revision {OLDER}" in message and f"revision {HEAD}" in message
    newer = schema.outdated_message(SchemaState("newer", UNKNOWN), url)
    assert UNKNOWN in newer and HEAD in newer and "s3cret" not in newer
