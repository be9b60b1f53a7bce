"""Opening the auth database: create MLflow's auth schema when empty, refuse one trackd can't read.

A database that MLflow 3.18's basic-auth app created (alembic revision ``f1a2b3c4d5e6`` in
``alembic_version_auth``) is used as it is; trackd only adds its own ``trackd_auth_tokens``
table. An older MLflow auth database (grants still in ``experiment_permissions``...) is
upgraded by :mod:`trackd.auth.migrate` on ``trackd auth upgrade``; the server refuses to
start on it rather than silently ignoring the grants it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from trackd.auth.tables import (
    AUTH_HEAD,
    VERSION_TABLE,
    alembic_version_auth,
    metadata,
    trackd_metadata,
)
from trackd.config import ConfigError
from trackd.store.schema import creation_lock
from trackd.store.urls import redact


def auth_revision(conn: sa.Connection) -> tuple[bool, str | None]:
    """(has MLflow auth tables, alembic revision or None)."""
    present = set(sa.inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in present:
        revision = conn.scalar(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return "users" in present, revision


# MLflow's auth schema names the user foreign keys of experiment_permissions and
# registered_model_permissions both fk_user_id. MySQL and MariaDB want foreign-key names unique
# per database (errno 121), so MLflow's own auth app cannot create its schema there; trackd
# gives the second key its own name on those databases (a name no query relies on).
_MYSQL_FK_RENAMES = {("registered_model_permissions", "fk_user_id"):
                     "fk_registered_model_perm_user_id"}


@contextmanager
def _unique_foreign_key_names(conn: sa.Connection) -> Iterator[None]:
    """While creating the tables on MySQL/MariaDB only; MLflow's names everywhere else."""
    renamed: list[tuple[sa.ForeignKeyConstraint, str]] = []
    if conn.dialect.name in ("mysql", "mariadb"):
        for table in metadata.sorted_tables:
            for constraint in table.constraints:
                new = _MYSQL_FK_RENAMES.get((table.name, str(constraint.name)))
                if isinstance(constraint, sa.ForeignKeyConstraint) and new:
                    renamed.append((constraint, str(constraint.name)))
                    constraint.name = new  # type: ignore[assignment]
    try:
        yield
    finally:
        for constraint, old in renamed:
            constraint.name = old  # type: ignore[assignment]


def prepare_auth_schema(engine: sa.Engine) -> None:
    # Instances starting together on one new auth database: one creates the tables, the
    # others wait for it (SQLite needs no lock: this transaction is BEGIN IMMEDIATE).
    with creation_lock(engine), engine.begin() as conn:
        has_users, revision = auth_revision(conn)
        if not has_users and revision is None:
            with _unique_foreign_key_names(conn):
                metadata.create_all(conn)
            conn.execute(alembic_version_auth.insert().values(version_num=AUTH_HEAD))
        elif revision != AUTH_HEAD:
            found = revision or "none (an MLflow auth database from before 3.6)"
            raise ConfigError(
                f"the auth database {redact(engine.url)} is at revision {found}, not MLflow "
                f"3.18's {AUTH_HEAD}: upgrade it once with `trackd auth upgrade` (or by "
                "starting `mlflow server --app-name basic-auth` 3.18 on it), then start trackd"
            )
        trackd_metadata.create_all(conn)
