"""Dialect-native "insert or ..." statements, so writes never read-then-write.

A retried ``log-batch`` must be harmless and two writers racing on the same key must not fail,
so trackd leans on each database's own conflict handling: ``ON CONFLICT`` on SQLite and
PostgreSQL, ``ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB. SQL Server has neither in a form
SQLAlchemy renders, so there the statement is emulated inside the transaction.

Each distinct statement (table, columns given, columns updated) is built once per dialect and
kept (:mod:`trackd.store.prepared`): these run on every metric, param and tag write.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, insert, select, tuple_, update

from trackd.store.prepared import Prepared

# Dialects whose own "insert or ..." statements are used (the others are emulated).
NATIVE_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")
_statements: dict[tuple[str, tuple[str, ...], tuple[str, ...] | None], Prepared] = {}
_statements_lock = threading.Lock()


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, silently skipping those whose primary key already exists."""
    if not rows:
        return
    if conn.dialect.name in NATIVE_DIALECTS:
        _statement(table, tuple(rows[0]), None).run(conn, rows)
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
    if conn.dialect.name in NATIVE_DIALECTS:
        _statement(table, tuple(rows[0]), tuple(update_columns)).run(conn, rows)
    else:
        _emulated(conn, table, rows, update_columns)


def ignoring_duplicates(table: Table, columns: tuple[str, ...]) -> Prepared:
    """The prepared statement :func:`insert_ignore` uses for rows with these columns."""
    return _statement(table, columns, None)


def _statement(
    table: Table, columns: tuple[str, ...], update_columns: tuple[str, ...] | None
) -> Prepared:
    key = (table.name, columns, update_columns)
    found = _statements.get(key)
    if found is None:
        with _statements_lock:
            found = _statements.setdefault(
                key, Prepared(lambda dialect: _build(dialect, table, columns, update_columns))
            )
    return found


def dialect_insert(dialect: str, table: Table) -> Any:
    """The dialect's own INSERT construct (with its upsert clauses) for ``table``.

    The dialect modules are imported here, on first use, so that a server on SQLite never loads
    the MySQL and PostgreSQL ones (they cost start-up time and memory for nothing).
    """
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        return mysql_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert(table)


def _build(
    dialect: str, table: Table, columns: tuple[str, ...], update_columns: tuple[str, ...] | None
) -> Any:
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    if dialect in ("mysql", "mariadb"):
        my = dialect_insert(dialect, table).values(values)
        if update_columns:
            return my.on_duplicate_key_update({c: my.inserted[c] for c in update_columns})
        # "Ignore" as a no-op assignment: INSERT IGNORE would also swallow other errors.
        first = table.primary_key.columns.values()[0].name
        return my.on_duplicate_key_update({first: my.inserted[first]})
    stmt = dialect_insert(dialect, table).values(values)
    if not update_columns:
        return stmt.on_conflict_do_nothing()
    return stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={c: stmt.excluded[c] for c in update_columns},
    )


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
