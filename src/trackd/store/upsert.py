"""Dialect-native "insert or ..." statements, so writes never read-then-write.

A retried ``log-batch`` must be harmless and two writers racing on the same key must not fail,
so trackd leans on each database's own conflict handling: ``ON CONFLICT`` on SQLite and
PostgreSQL, ``ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB. SQL Server has neither in a form
SQLAlchemy renders, so there the statement is emulated inside the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, select, tuple_, update
from sqlalchemy.dialects import mysql, postgresql, sqlite


def _dialect(conn: Connection) -> str:
    name = conn.dialect.name
    return "mysql" if name == "mariadb" else name


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, silently skipping those whose primary key already exists."""
    if not rows:
        return
    dialect = _dialect(conn)
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        conn.execute(module.insert(table).on_conflict_do_nothing(), list(rows))
    elif dialect == "mysql":
        first = table.primary_key.columns.values()[0].name
        stmt = mysql.insert(table)
        conn.execute(stmt.on_duplicate_key_update({first: stmt.inserted[first]}), list(rows))
    else:
        _emulated(conn, table, rows, update_columns=())


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    update_columns: Sequence[str],
) -> None:
    """Insert rows, overwriting ``update_columns`` of those whose primary key exists."""
    if not rows:
        return
    dialect = _dialect(conn)
    keys = [c.name for c in table.primary_key.columns]
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        stmt = module.insert(table)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c: stmt.excluded[c] for c in update_columns},
            ),
            list(rows),
        )
    elif dialect == "mysql":
        stmt = mysql.insert(table)
        conn.execute(
            stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in update_columns}),
            list(rows),
        )
    else:
        _emulated(conn, table, rows, update_columns)


def _emulated(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    update_columns: Sequence[str],
) -> None:
    keys = [c for c in table.primary_key.columns]
    for row in rows:
        match = and_(*(c == row[c.name] for c in keys))
        exists = conn.execute(select(keys[0]).where(match).with_for_update()).first()
        if exists is None:
            conn.execute(insert(table).values(row))
        elif update_columns:
            conn.execute(update(table).where(match).values({c: row[c] for c in update_columns}))


def newer_than(new: Sequence[Any], old: Sequence[Any]) -> Any:
    """SQL for "the tuple ``new`` sorts after ``old``" (row-value comparison)."""
    return tuple_(*new) > tuple_(*old)
