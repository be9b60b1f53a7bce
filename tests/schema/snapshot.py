"""A comparable, printable picture of a database schema, taken with SQLAlchemy's inspector.

Two databases have "the same schema" when their snapshots are equal: same tables, and per table
the same columns in the same order (type as the dialect spells it, nullability, server default,
autoincrement/identity/computed), primary key, foreign keys, indexes, unique and check
constraints, and on MySQL the table options (engine, charset, collation). Beyond the inspector,
each database's catalog adds index key order and prefix lengths, triggers, and PostgreSQL's
functions and sequences (under the pseudo-table ``DATABASE_KEY``).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

import sqlalchemy as sa


def take(engine: sa.Engine, include_trackd: bool = False) -> dict[str, Any]:
    """Snapshot every table of the database behind ``engine``.

    ``trackd_*`` indexes are left out unless asked for, because they are trackd's optional
    additions that an mlflow-created database does not have.
    """
    insp = sa.inspect(engine)
    dialect = engine.dialect
    tables: dict[str, Any] = {}
    for name in sorted(insp.get_table_names()):
        tables[name] = _table(insp, dialect, name, include_trackd)
    with engine.connect() as conn:
        tables[DATABASE_KEY] = _database_objects(conn, include_trackd)
    return tables


# What the inspector does not report, queried from each database's catalog: index key order
# (DESC) and prefix lengths, triggers, and PostgreSQL's functions and sequences.
DATABASE_KEY = "(database objects)"

_CATALOG_QUERIES: dict[str, dict[str, str]] = {
    "sqlite": {
        "triggers": "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'",
        "index_keys": (
            'SELECT m.name, x.seqno, x.name, x."desc", x.coll FROM sqlite_master m, '
            "pragma_index_xinfo(m.name) x WHERE m.type = 'index' AND x.key = 1"
        ),
    },
    "postgresql": {
        "triggers": (
            "SELECT trigger_name, event_object_table, action_timing, event_manipulation, "
            "action_orientation FROM information_schema.triggers "
            "WHERE trigger_schema = current_schema()"
        ),
        "index_keys": (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        ),
        "functions": (
            "SELECT p.proname, pg_get_function_result(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
        ),
        "sequences": (
            "SELECT sequence_name, data_type, start_value, increment FROM "
            "information_schema.sequences WHERE sequence_schema = current_schema()"
        ),
    },
    "mysql": {
        "triggers": (
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
            "ACTION_ORIENTATION FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE()"
        ),
        "index_keys": (
            "SELECT INDEX_NAME, TABLE_NAME, SEQ_IN_INDEX, COLUMN_NAME, COLLATION, SUB_PART "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
        ),
    },
}


def _database_objects(conn: sa.Connection, include_trackd: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, query in _CATALOG_QUERIES.get(conn.dialect.name, {}).items():
        rows = [
            [_squash(v) if isinstance(v, str) else v for v in row]
            for row in conn.exec_driver_sql(query)
        ]
        if not include_trackd:
            rows = [r for r in rows if not str(r[0]).startswith("trackd_")]
        out[kind] = sorted(rows, key=lambda r: [str(v) for v in r])
    return out


def _table(insp: sa.Inspector, dialect: sa.Dialect, name: str, include_trackd: bool) -> Any:
    pk = insp.get_pk_constraint(name)
    indexes = [
        {
            "name": ix["name"],
            "columns": ix["column_names"],
            "unique": bool(ix["unique"]),
            "sorting": ix.get("column_sorting", {}),
            "options": {k: v for k, v in ix.get("dialect_options", {}).items()},
        }
        for ix in insp.get_indexes(name)
        if include_trackd or not (ix["name"] or "").startswith("trackd_")
    ]
    out: dict[str, Any] = {
        "columns": [_column(c, dialect) for c in insp.get_columns(name)],
        "primary_key": {"name": pk.get("name"), "columns": pk["constrained_columns"]},
        "foreign_keys": sorted(
            (
                {
                    "name": fk["name"],
                    "columns": fk["constrained_columns"],
                    "references": f"{fk['referred_table']}({', '.join(fk['referred_columns'])})",
                    "options": fk.get("options", {}),
                }
                for fk in insp.get_foreign_keys(name)
            ),
            key=lambda fk: (str(fk["name"]), fk["columns"], fk["references"]),
        ),
        "indexes": sorted(indexes, key=lambda ix: (str(ix["name"]), ix["columns"])),
        "unique_constraints": sorted(
            ({"name": u["name"], "columns": u["column_names"]} for u in _uniques(insp, name)),
            key=lambda u: (str(u["name"]), u["columns"]),
        ),
        "check_constraints": sorted(
            (
                {"name": c["name"], "sql": _squash(c["sqltext"])}
                for c in insp.get_check_constraints(name)
            ),
            key=lambda c: (str(c["name"]), c["sql"]),
        ),
    }
    if dialect.name == "mysql":
        opts = insp.get_table_options(name)
        out["options"] = {k: v for k, v in sorted(opts.items()) if k != "mysql_comment"}
    return out


def _uniques(insp: sa.Inspector, name: str) -> list[Any]:
    try:
        return list(insp.get_unique_constraints(name))
    except NotImplementedError:
        return []


def _column(col: Any, dialect: sa.Dialect) -> dict[str, Any]:
    out = {
        "name": col["name"],
        "type": col["type"].compile(dialect=dialect),
        "nullable": col["nullable"],
        "default": _squash(col.get("default")),
    }
    # Only some dialects report these; include them when present so they get compared too.
    for key in ("autoincrement", "identity", "computed", "comment"):
        if col.get(key) not in (None, False) or (key == "autoincrement" and key in col):
            out[key] = col.get(key)
    return out


def _squash(sql: Any) -> Any:
    """Whitespace-normalize SQL text so that line breaks never count as a difference."""
    if sql is None:
        return None
    return re.sub(r"\s+", " ", str(sql)).strip()


def diff(expected: dict[str, Any], actual: dict[str, Any], labels: tuple[str, str]) -> str:
    """A unified diff of two snapshots, table by table; empty when they are equal."""
    chunks: list[str] = []
    for name in sorted(set(expected) | set(actual)):
        a = json.dumps(expected.get(name), indent=1, sort_keys=True, default=str).splitlines()
        b = json.dumps(actual.get(name), indent=1, sort_keys=True, default=str).splitlines()
        if a != b:
            chunks.append(f"=== table {name}")
            chunks.extend(
                difflib.unified_diff(a, b, f"{labels[0]}", f"{labels[1]}", n=2, lineterm="")
            )
    return "\n".join(chunks)
