"""Shared pieces of the table definitions: the one MetaData and MLflow's recurring types."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, MetaData, String, Text, text
from sqlalchemy.dialects.mssql import NVARCHAR
from sqlalchemy.dialects.mysql import MEDIUMTEXT

metadata = MetaData()

# Double precision on every dialect (FLOAT(53) is DOUBLE on MySQL and SQL Server).
DOUBLE = Float(precision=53)
# Long free text: MEDIUMTEXT on MySQL (TEXT caps at 64 KiB there). NVARCHAR(max) on SQL Server
# is exact for experiment_tags.value; the datasets columns are TEXT there, which queries treat
# the same way.
MEDIUM_TEXT = Text().with_variant(MEDIUMTEXT(), "mysql").with_variant(NVARCHAR(None), "mssql")


def flag() -> Boolean:
    """A boolean MLflow declares with create_constraint=True: CHECK (x IN (0, 1)) where the
    database has no native boolean. A new instance per column, as constraint-making types are
    tied to the table they are attached to."""
    return Boolean(create_constraint=True)


WORKSPACE_DEFAULT = text("'default'")
LIFECYCLE = "('active', 'deleted')"


def workspace_column() -> Column[str]:
    """The tenant column MLflow 3.x added to experiments and registry tables."""
    return Column("workspace", String(63), nullable=False, server_default=WORKSPACE_DEFAULT)
