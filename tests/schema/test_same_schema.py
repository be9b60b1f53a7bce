"""A database created by trackd has exactly the schema that mlflow 3.18 creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from trackd.store import schema

from . import snapshot
from .conftest import SLOW_TIMEOUT, engine_for, take_snapshot

pytestmark = [pytest.mark.schema, pytest.mark.timeout(SLOW_TIMEOUT)]


def assert_same(expected: dict[str, Any], actual: dict[str, Any], labels: tuple[str, str]) -> None:
    if expected != actual:
        detail = snapshot.diff(expected, actual, labels)
        pytest.fail(f"schemas differ ({labels[0]} vs {labels[1]}):\n{detail}", pytrace=False)


def test_create_schema_matches_mlflow(
    db_kind: str, tmp_path: Path, mlflow_snapshot: dict[str, Any]
) -> None:
    with fresh_database(db_kind, tmp_path) as url:
        with engine_for(url) as engine:
            schema.create_schema(engine)
        assert_same(mlflow_snapshot, take_snapshot(url), ("mlflow", "trackd"))
        with engine_for(url) as engine:
            _check_secrets_trigger(engine)


def _check_secrets_trigger(engine: sa.Engine) -> None:
    """The trigger trackd writes behaves like mlflow's: secret_id/secret_name are immutable."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO secrets (secret_id, secret_name, encrypted_value, wrapped_dek,"
                " kek_version, masked_value, created_at, last_updated_at, workspace)"
                " VALUES ('s1', 'n1', :blob, :blob, 1, '***', 0, 0, 'default')"
            ),
            {"blob": b"x"},
        )
    with engine.begin() as conn:  # other columns may change
        conn.execute(sa.text("UPDATE secrets SET last_updated_at = 1"))
    for column in ("secret_id", "secret_name"):
        with pytest.raises(sa.exc.DBAPIError, match="immutable"), engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE secrets SET {column} = 'changed'"))


def test_upgrade_adds_only_trackd_indexes(
    db_kind: str, tmp_path: Path, mlflow_snapshot: dict[str, Any]
) -> None:
    with fresh_database(db_kind, tmp_path) as url:
        with engine_for(url) as engine:
            done = schema.upgrade(engine)  # on an empty database: schema, then indexes
            assert schema.inspect_schema(engine) == schema.SchemaState("current", schema.HEAD)
            names = schema.trackd_index_names(engine.dialect.name)
        assert "created" in done and schema.HEAD in done and all(n in done for n in names)
        # Leaving trackd_* out, the schema is mlflow's; with them, exactly those were added.
        assert_same(mlflow_snapshot, take_snapshot(url), ("mlflow", "trackd upgrade"))
        full = take_snapshot(url, include_trackd=True)
    found = sorted(
        ix["name"]
        for name, table in full.items()
        if name != snapshot.DATABASE_KEY
        for ix in table["indexes"]
        if ix["name"].startswith("trackd_")
    )
    assert found == sorted(names)
