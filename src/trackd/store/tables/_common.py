"""Shared pieces of the table definitions: the one MetaData and MLflow's recurring types."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, MetaData, String, Text, text
from sqlalchemy.dialects.mssql import NVARCHAR
from sqlalchemy.dialects.mysql import MEDIUMTEXT

metadata = MetaData()

# Double precision on every dialect (FLOAT(53) is DOUBLE on MySQL and SQL Server).
DOUBLE = Float(precision=53)
# Long free text: MEDIUMTEXT on MySQL (TEXT caps at 64 KiB there), NVARCHAR(max) on SQL Server.
LONG_TEXT = Text().with_variant(MEDIUMTEXT(), "mysql").with_variant(NVARCHAR(None), "mssql")
# Booleans that MLflow declares with create_constraint=True: a CHECK (x IN (0, 1)) where the
# database has no native boolean.
FLAG = Boolean(create_constraint=True)
WORKSPACE_DEFAULT = text("'default'")
LIFECYCLE = "('active', 'deleted')"


def workspace_column() -> Column[str]:
    """The tenant column MLflow 3.x added to experiments and registry tables."""
    return Column("workspace", String(63), nullable=False, server_default=WORKSPACE_DEFAULT)
