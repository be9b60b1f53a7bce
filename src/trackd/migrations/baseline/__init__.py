"""MLflow 3.18's whole schema (alembic head f4a9b2c7d1e6) as frozen SQLAlchemy DDL.

The tables were written from databases that mlflow 3.18 built on SQLite, PostgreSQL and MariaDB
(inspected column by column) and from the dialect branches in MLflow's migration history. They
are what MLflow's ~70 migrations *leave behind*, which is not always what MLflow's ORM models
say: e.g. ``runs.status`` is VARCHAR(9), and MySQL keeps a few indexes that InnoDB created for
foreign keys that were later replaced. Such per-dialect leftovers are reproduced on purpose and
commented where they appear, so that a trackd-built database is indistinguishable from one that
``mlflow server`` built.

This package belongs to the baseline revision only; it must never change once released (a
later schema change is a new revision with its own frozen DDL).
"""

from __future__ import annotations

import sqlalchemy as sa

from . import triggers
from .catalog import catalog_tables
from .gateway import gateway_tables
from .genai import genai_tables
from .registry import registry_tables
from .traces import traces_tables
from .tracking import tracking_tables

_BUILDERS = (
    tracking_tables,
    registry_tables,
    traces_tables,
    genai_tables,
    gateway_tables,
    catalog_tables,
)


def build(dialect: str) -> sa.MetaData:
    """A fresh MetaData holding every MLflow table as it exists on ``dialect``."""
    meta = sa.MetaData()
    for builder in _BUILDERS:
        builder(meta, dialect)
    return meta


def create(conn: sa.Connection) -> None:
    """Create the whole schema (tables, indexes, constraints, triggers) on an empty database."""
    build(conn.dialect.name).create_all(conn, checkfirst=False)
    triggers.create(conn)


def drop(conn: sa.Connection) -> None:
    """Remove everything :func:`create` made (the baseline's downgrade)."""
    triggers.drop(conn)
    build(conn.dialect.name).drop_all(conn, checkfirst=False)


__all__ = ["build", "create", "drop"]
