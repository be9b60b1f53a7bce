"""Column types MLflow's migrations use with per-dialect variants.

Each name states the intent; the variants reproduce what MLflow's DDL leaves in each database.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql

# Double precision everywhere: FLOAT on SQLite, DOUBLE PRECISION on PostgreSQL, DOUBLE on MySQL,
# FLOAT(53) on SQL Server. A bare sa.Float() would be single precision on MySQL.
DOUBLE = sa.Float(precision=53)

# MySQL's TEXT holds only 64 KiB, so larger free text is MEDIUMTEXT (16 MiB) or LONGTEXT there.
MEDIUM_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
# Tag values that MLflow also widened to NVARCHAR(max) on SQL Server (unicode, unbounded).
TAG_TEXT = MEDIUM_TEXT.with_variant(mssql.NVARCHAR(None), "mssql")

# Surrogate ids of the rollup tables: BIGINT identity, except INTEGER on SQLite where only an
# INTEGER PRIMARY KEY becomes the auto-assigned rowid.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def cs_string(length: int) -> sa.types.TypeEngine[str]:
    """A VARCHAR compared case-sensitively on the databases whose default collation is not.

    MySQL and SQL Server compare strings case-insensitively by default, which would make the
    versions "V1" and "v1" (or tag keys "A" and "a") collide in a primary key.
    """
    return (
        sa.String(length)
        .with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")
        .with_variant(mssql.VARCHAR(length, collation="SQL_Latin1_General_CP1_CS_AS"), "mssql")
    )


def only_on(
    dialect: str, wanted: str, *items: sa.schema.SchemaItem
) -> tuple[sa.schema.SchemaItem, ...]:
    """``items`` when building for ``wanted``, else nothing: for per-dialect leftovers."""
    return items if dialect == wanted else ()
