"""The auth database and its password hashes move between MLflow's basic-auth app and trackd.

MLflow's own auth store (``mlflow.server.auth.sqlalchemy_store``) writes and reads the same
database as trackd here, in both directions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from trackd.auth.config import AuthConfig
from trackd.auth.schema import prepare_auth_schema
from trackd.auth.service import open_auth
from trackd.store.database import Database

pytest.importorskip("flask_wtf")  # MLflow's auth package imports it
# Importing MLflow's server package pulls in Starlette's deprecated WSGI shim: MLflow's business.
# So does its alembic configuration (no path_separator).
pytestmark = [pytest.mark.filterwarnings("ignore:starlette.middleware.wsgi is deprecated"),
              pytest.mark.filterwarnings("ignore:No path_separator found")]


def mlflow_store(url: str) -> Any:
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(url)
    return store


def describe(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        out: dict[str, Any] = {}
        for table in sorted(set(insp.get_table_names()) - {"trackd_auth_tokens"}):
            out[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"])
                            for c in insp.get_columns(table)],
                "pk": insp.get_pk_constraint(table)["constrained_columns"],
                "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                                 for u in insp.get_unique_constraints(table)),
                "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"])
                              for f in insp.get_foreign_keys(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]))
                                  for i in insp.get_indexes(table)),
            }
        return out
    finally:
        engine.dispose()


def test_same_schema_as_mlflow(tmp_path: Path) -> None:
    theirs = f"sqlite:///{tmp_path / 'mlflow_auth.db'}"
    ours = f"sqlite:///{tmp_path / 'trackd_auth.db'}"
    mlflow_store(theirs).engine.dispose()
    engine = sa.create_engine(ours)
    prepare_auth_schema(engine)
    engine.dispose()
    assert describe(ours) == describe(theirs)


def test_mlflow_users_and_grants_work_in_trackd(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    theirs = mlflow_store(url)
    theirs.create_user("carol", "carol-password-123", is_admin=False)
    theirs.create_experiment_permission("7", "carol", "EDIT")
    theirs.engine.dispose()

    tracking = Database(f"sqlite:///{tmp_path / 'tracking.db'}")
    auth = open_auth(AuthConfig(default_permission="NO_PERMISSIONS", database_uri=url,
                                admin_username="admin", admin_password="admin-password-123"),
                     tracking)
    try:
        import anyio

        async def check() -> None:
            token = "Basic " + __import__("base64").b64encode(b"carol:carol-password-123").decode()
            user = await auth.authenticate(token)
            assert user is not None and user.username == "carol"
            assert await auth.authenticate(token[:-4] + "AAAA") is None
            assert (await auth.permission(user, "experiment", "7")).name == "EDIT"
            assert (await auth.permission(user, "experiment", "8")).name == "NO_PERMISSIONS"

        anyio.run(check)
    finally:
        auth.close()
        tracking.close()


def test_trackd_users_and_grants_work_in_mlflow(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    tracking = Database(f"sqlite:///{tmp_path / 'tracking.db'}")
    auth = open_auth(AuthConfig(database_uri=url, admin_username="root",
                                admin_password="root-password-123"), tracking)
    try:
        from trackd.auth import store
        from trackd.auth.passwords import hash_password

        def work(conn: sa.Connection) -> None:
            dave = store.create_user(conn, "dave", hash_password("dave-password-123"), False)
            store.set_own_grant(conn, dave, "experiment", "3", "MANAGE", mode="create")
            store.set_own_grant(conn, dave, "registered_model", "m", "READ", mode="create")

        auth.db.write_sync(work)
    finally:
        auth.close()
        tracking.close()
    theirs = mlflow_store(url)
    try:
        assert theirs.authenticate_user("root", "root-password-123")
        assert theirs.get_user("root").is_admin
        assert theirs.authenticate_user("dave", "dave-password-123")
        assert not theirs.authenticate_user("dave", "wrong-password-123")
        assert theirs.get_experiment_permission("3", "dave").permission == "MANAGE"
        assert theirs.get_registered_model_permission("m", "dave").permission == "READ"
        theirs.delete_user("dave")  # MLflow can clean up after trackd's rows
    finally:
        theirs.engine.dispose()


def test_roles_move_both_ways(tmp_path: Path) -> None:
    """Roles, their permissions and assignments made by either server work in the other."""
    from trackd.auth import roles, store
    from trackd.auth.passwords import hash_password

    url = f"sqlite:///{tmp_path / 'auth.db'}"
    theirs = mlflow_store(url)
    theirs.create_user("erin", "erin-password-123")
    mlflow_role = theirs.create_role("mlflow-made", "default")
    theirs.add_role_permission(mlflow_role.id, "experiment", "4", "DENY")
    theirs.assign_role_to_user(theirs.get_user("erin").id, mlflow_role.id)
    theirs.engine.dispose()

    tracking = Database(f"sqlite:///{tmp_path / 'tracking.db'}")
    auth = open_auth(AuthConfig(default_permission="EDIT", database_uri=url,
                                admin_username="admin", admin_password="admin-password-123"),
                     tracking)
    try:
        def work(conn: sa.Connection) -> int:
            frank = store.create_user(conn, "frank", hash_password("frank-password-123"), False)
            made = roles.create_role(conn, "default", "trackd-made", "from trackd")
            roles.add_permission(conn, made["id"], "registered_model", "*", "EDIT")
            roles.assign(conn, frank.id, made["id"])
            return int(made["id"])

        trackd_role = auth.db.write_sync(work)
        erin = auth.db.read_sync(lambda c: store.get_user(c, "erin"))

        import anyio

        async def check() -> None:
            assert (await auth.permission(erin, "experiment", "4")).name == "DENY"
            assert (await auth.permission(erin, "experiment", "5")).name == "EDIT"

        anyio.run(check)
    finally:
        auth.close()
        tracking.close()
    theirs = mlflow_store(url)
    try:
        role = theirs.get_role(trackd_role)
        assert (role.name, role.description) == ("trackd-made", "from trackd")
        [perm] = theirs.list_role_permissions(trackd_role)
        assert (perm.resource_type, perm.resource_pattern, perm.permission) == (
            "registered_model", "*", "EDIT")
        frank_roles = theirs.list_user_roles(theirs.get_user("frank").id)
        assert "trackd-made" in {r.name for r in frank_roles}
    finally:
        theirs.engine.dispose()
