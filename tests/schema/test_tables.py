"""trackd.store.tables (what the store queries) matches the tables mlflow 3.18 builds."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from trackd.store import tables

from . import snapshot
from .conftest import SLOW_TIMEOUT, MlflowDatabase, engine_for

pytestmark = [pytest.mark.schema, pytest.mark.timeout(SLOW_TIMEOUT)]

# How a declared type compiles vs how the database reports it back, per dialect.
_SAME_TYPE = {
    "postgresql": {"FLOAT(53)": "DOUBLE PRECISION"},
    # MariaDB's JSON is an alias of LONGTEXT with a binary collation (and a json_valid check).
    "mysql": {"FLOAT(53)": "DOUBLE", "BOOL": "TINYINT",
              "JSON": "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
    "sqlite": {},
}


def _norm(type_sql: str, dialect: str) -> str:
    # MySQL reports integer display widths (INTEGER(11)) that no declaration carries.
    bare = re.sub(r"^(INTEGER|BIGINT|TINYINT)\(\d+\)$", r"\1", type_sql)
    return _SAME_TYPE[dialect].get(bare, bare)


def _declared(table: sa.Table, dialect: sa.Dialect) -> dict[str, Any]:
    return {
        "columns": [
            {
                "name": c.name,
                "type": _norm(c.type.compile(dialect=dialect), dialect.name),
                "nullable": c.nullable,
                "has_default": c.server_default is not None,
            }
            for c in table.columns
        ],
        "primary_key": [c.name for c in table.primary_key.columns],
        "foreign_keys": sorted(
            f"{[e.parent.name for e in fk.elements]}->{fk.referred_table.name}"
            f"{[e.column.name for e in fk.elements]}"
            for fk in table.foreign_key_constraints
        ),
        "indexes": sorted(str(ix.name) for ix in table.indexes),
    }


def _found(reflected: dict[str, Any], dialect: str) -> dict[str, Any]:
    # Only the indexes a declaration names; InnoDB's implicit FK indexes are not declared.
    return {
        "columns": [
            {
                "name": c["name"],
                "type": _norm(c["type"], dialect),
                "nullable": c["nullable"],
                # PostgreSQL's SERIAL shows up as a nextval() default: that is autoincrement.
                "has_default": c["default"] is not None and "nextval(" not in c["default"],
            }
            for c in reflected["columns"]
        ],
        "primary_key": reflected["primary_key"]["columns"],
        "foreign_keys": sorted(
            f"{fk['columns']}->{fk['references'].split('(')[0]}"
            f"{[c.strip() for c in fk['references'].split('(')[1].rstrip(')').split(',')]}"
            for fk in reflected["foreign_keys"]
        ),
        "indexes": sorted(ix["name"] for ix in reflected["indexes"]),
    }


def test_query_tables_match_mlflow(mlflow_database: MlflowDatabase) -> None:
    with engine_for(mlflow_database.url) as engine:
        dialect = engine.dialect
    mismatches = []
    for name, table in sorted(tables.metadata.tables.items()):
        assert name in mlflow_database.snapshot, f"{name} is not an MLflow table"
        declared = _declared(table, dialect)
        found = _found(mlflow_database.snapshot[name], dialect.name)
        found["indexes"] = [ix for ix in found["indexes"] if ix in declared["indexes"]]
        if declared != found:
            mismatches.append(snapshot.diff({name: found}, {name: declared}, ("db", "tables.py")))
    assert not mismatches, "\n".join(mismatches)
