"""`trackd auth upgrade` brings an MLflow 2.x auth database to 3.18's schema, grants included."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from auth.test_mlflow_interop import describe, mlflow_store
from trackd.auth import store
from trackd.auth.migrate import upgrade_auth_database
from trackd.auth.passwords import hash_password
from trackd.cli import main

pytest.importorskip("flask_wtf")
pytestmark = [pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated"),
              pytest.mark.filterwarnings("ignore:No path_separator found")]


def legacy_database(url: str, *, versioned: bool) -> None:
    """The auth database of MLflow 2.x: users plus per-experiment / per-model grant tables."""
    from mlflow.server.auth.db import utils

    engine = sa.create_engine(url)
    utils.migrate(engine, "8606fa83a998")
    with engine.begin() as conn:
        for uid, name, admin in ((1, "admin", True), (2, "gina", False)):
            conn.execute(sa.text("INSERT INTO users (id, username, password_hash, is_admin) "
                                 "VALUES (:i, :n, :h, :a)"),
                         {"i": uid, "n": name, "h": hash_password(f"{name}-password-123"),
                          "a": admin})
        conn.execute(sa.text("INSERT INTO experiment_permissions (experiment_id, user_id, "
                             "permission) VALUES ('5', 2, 'EDIT'), ('6', 2, 'NO_PERMISSIONS')"))
        conn.execute(sa.text("INSERT INTO registered_model_permissions (name, user_id, "
                             "permission) VALUES ('m', 2, 'MANAGE')"))
        if not versioned:
            conn.execute(sa.text("DROP TABLE alembic_version_auth"))
    engine.dispose()


@pytest.mark.parametrize("versioned", [True, False])
def test_upgrade_legacy_auth_database(tmp_path: Path, versioned: bool) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy_database(url, versioned=versioned)
    result = CliRunner().invoke(main, ["auth", "upgrade", "--database-uri", url])
    assert result.exit_code == 0, result.output
    assert "upgraded the auth database" in result.output
    head = f"sqlite:///{tmp_path / 'head.db'}"
    mlflow_store(head).engine.dispose()
    assert describe(url) == describe(head)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        gina = store.get_user(conn, "gina")
        grants = {(g.resource_type, g.resource_pattern, g.permission)
                  for g in store.user_grants(conn, gina.id, ("experiment", "registered_model"))}
    engine.dispose()
    assert grants == {("experiment", "5", "EDIT"), ("experiment", "6", "NO_PERMISSIONS"),
                      ("registered_model", "m", "MANAGE")}
    # MLflow 3.18 finds nothing left to migrate and reads the same grants.
    theirs = mlflow_store(url)
    try:
        assert theirs.get_experiment_permission("5", "gina").permission == "EDIT"
        assert theirs.authenticate_user("gina", "gina-password-123")
    finally:
        theirs.engine.dispose()
    # Running it again is a no-op.
    engine = sa.create_engine(url)
    assert "already at" in upgrade_auth_database(engine)
    engine.dispose()
