"""Shared pieces of the table definitions: the one MetaData and MLflow's recurring types."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Float, MetaData, String, Text, text
from sqlalchemy.ext.compiler import compiles

metadata = MetaData()

# Double precision on every dialect (FLOAT(53) is DOUBLE on MySQL and SQL Server).
DOUBLE = Float(precision=53)


class _MediumText(Text):
    """Long free text: MEDIUMTEXT on MySQL (TEXT caps at 64 KiB there), NVARCHAR(max) on SQL
    Server (exact for experiment_tags.value; the datasets columns are TEXT there, which queries
    treat the same way), TEXT elsewhere.

    Spelled with compile hooks rather than ``with_variant(MEDIUMTEXT(), ...)`` because importing
    the MySQL and SQL Server dialect packages costs every server start ~30 ms and a few MiB,
    whatever database it runs on; values bind and load as plain text on every dialect.
    """

    cache_ok = True


@compiles(_MediumText, "mysql")
@compiles(_MediumText, "mariadb")
def _medium_text_mysql(_type: Any, _compiler: Any, **_kw: Any) -> str:
    return "MEDIUMTEXT"


@compiles(_MediumText, "mssql")
def _medium_text_mssql(_type: Any, _compiler: Any, **_kw: Any) -> str:
    return "NVARCHAR(max)"


MEDIUM_TEXT = _MediumText()


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
