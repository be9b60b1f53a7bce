"""Hot statements built and compiled once per dialect, then executed as plain driver SQL.

Building a SQLAlchemy statement and compiling it costs far more than SQLite takes to run it:
measured on this project's machine, one ``log-metric`` spent ~0.5 ms in statement
construction (``Insert.excluded`` aliases, cache keys) against ~10 µs of SQLite work. The
handful of statements on the write hot paths (log-metric, log-batch, set-tag, log-param,
create-run) are therefore described once, compiled once for the connection's dialect, and run
on the driver's cursor inside the connection's transaction; errors are raised as SQLAlchemy's
exception types, so callers see no difference.

A statement is written as a function of the dialect name returning a SQLAlchemy Core
statement whose bind parameters are named; callers pass rows as dicts keyed by those names.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, String, any_, bindparam
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

# Above this many rows PostgreSQL gets SQLAlchemy's own execution, which folds an
# executemany into multi-row VALUES (one round trip per 1,000 rows instead of a pipeline).
_MULTI_ROW = 8
# Rows per multi-row INSERT on PostgreSQL (``multi_row=True``): well under its 65,535 bind
# parameters for tables of a few dozen columns.
_VALUES_CHUNK = 1000
_NAMED = re.compile(r"%\((\w+)\)s")
# Multi-row statements kept per row count (1 to this many rows; larger ones are built anew).
_NUMBERED_KEPT = 64


class _Compiled:
    __slots__ = ("statement", "sql", "order", "values", "_numbered")

    def __init__(self, statement: Any, sql: str, order: tuple[str, ...] | None) -> None:
        self.statement = statement
        self.sql = sql
        self.order = order  # bind names in position order for positional paramstyles
        # (INSERT ... VALUES, one row's "(%s, ...)", its bind names) of a plain named-style
        # INSERT, for writing many rows as one multi-row statement; else None.
        self.values: tuple[str, str, tuple[str, ...]] | None = None
        head, sep, group = sql.partition(" VALUES (")
        if order is None and sep and head.startswith("INSERT INTO ") and group.endswith(")") \
                and ")" not in group[:-1].replace(")s", ""):
            names = tuple(_NAMED.findall(group))
            self.values = (head + " VALUES ", "(" + _NAMED.sub("%s", group), names)
        self._numbered: dict[int, str] = {}

    def numbered(self, n_rows: int, n_columns: int) -> str:
        """The multi-row INSERT of ``n_rows`` rows with PostgreSQL's own ``$1, $2, ...``
        placeholders. psycopg rewrites ``%s`` into those by parsing the query on every
        execution once it has more than 50 parameters (its cache stops there): for an OTLP
        export's spans that parse cost more than the rest of the insert. Kept per row count
        for the small counts that recur."""
        found = self._numbered.get(n_rows)
        if found is None:
            assert self.values is not None
            found = self.values[0] + ", ".join(
                "(" + ", ".join(f"${row * n_columns + i}" for i in range(1, n_columns + 1)) + ")"
                for row in range(n_rows))
            if n_rows <= _NUMBERED_KEPT:
                self._numbered[n_rows] = found
        return found


class Prepared:
    """One statement, compiled lazily per dialect; thread-safe, shared by all requests."""

    def __init__(self, build: Callable[[str], Executable], multi_row: bool = False) -> None:
        """``multi_row``: on PostgreSQL, many rows of a plain INSERT go as multi-row VALUES
        statements (psycopg's executemany pipelines one statement per row, which costs the
        server and this process far more for the dozens of rows an OTLP export carries)."""
        self._build = build
        self._multi_row = multi_row
        self._by_dialect: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compiled(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            with self._lock:
                statement = self._build(dialect.name)
                compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
                order = tuple(compiled.positiontup) if compiled.positional else None
                found = _Compiled(statement, compiled.string, order)
                self._by_dialect[dialect.name] = found
        return found

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute for one row or many (executemany); ``rows`` must not be empty."""
        compiled = self._compiled(conn)
        if self._multi_row and len(rows) > 1 and compiled.values is not None:
            names = compiled.values[2]
            self._run_values(conn, compiled, [tuple(r[n] for n in names) for r in rows])
            return
        if len(rows) > _MULTI_ROW and conn.dialect.name == "postgresql":
            conn.execute(compiled.statement, list(rows))
            return
        cursor = _cursor(conn)
        try:
            if len(rows) == 1:
                _execute(conn, cursor, compiled.sql, _params(compiled, rows[0]))
            else:
                _execute(conn, cursor, compiled.sql, [_params(compiled, r) for r in rows], True)
        finally:
            cursor.close()

    def run_tuples(
        self, conn: Connection, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Execute for positional rows whose values follow ``names``; saves building a dict
        per row where the driver takes tuples in that very order (SQLite's qmark style)."""
        compiled = self._compiled(conn)
        if self._multi_row and len(rows) > 1 and compiled.values is not None:
            if compiled.values[2] != names:
                where = [names.index(n) for n in compiled.values[2]]
                rows = [tuple(row[i] for i in where) for row in rows]
            self._run_values(conn, compiled, rows)
            return
        if compiled.order != names or len(rows) == 1:
            self.run(conn, [dict(zip(names, row, strict=True)) for row in rows])
            return
        cursor = _cursor(conn)
        try:
            _execute(conn, cursor, compiled.sql, rows, True)
        finally:
            cursor.close()

    def count(self, conn: Connection, **values: Any) -> int:
        """Run for one row of ``values``; the number of rows the driver says it affected."""
        compiled = self._compiled(conn)
        cursor = _cursor(conn)
        try:
            _execute(conn, cursor, compiled.sql, _params(compiled, values))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    @staticmethod
    def _run_values(conn: Connection, compiled: _Compiled, rows: Sequence[tuple[Any, ...]]) -> None:
        assert compiled.values is not None
        head, group, names = compiled.values
        raw = conn.dialect.driver == "psycopg"
        cursor = _raw_cursor(conn) if raw else _cursor(conn)
        try:
            for start in range(0, len(rows), _VALUES_CHUNK):
                chunk = rows[start:start + _VALUES_CHUNK]
                params = [value for row in chunk for value in row]
                sql = compiled.numbered(len(chunk), len(names)) if raw \
                    else head + ", ".join([group] * len(chunk))
                _execute(conn, cursor, sql, params)
        finally:
            cursor.close()

    def one(self, conn: Connection, **values: Any) -> Any:
        """The first row of a query run with ``values``, or None."""
        compiled = self._compiled(conn)
        cursor = _cursor(conn)
        try:
            _execute(conn, cursor, compiled.sql, _params(compiled, values))
            return cursor.fetchone()
        finally:
            cursor.close()

    def all_for_ids(self, conn: Connection, ids: Sequence[str]) -> list[Any]:
        """Every row of a query whose one bind parameter, ``ids``, is a list of keys.

        For reads that return thousands of small rows (a search page's params, tags and
        metrics), where SQLAlchemy's per-row result processing costs as much as the database's
        own work. The statement writes ``ids`` as an expanding ``IN`` (rendered here for the
        driver's placeholder style) or, on PostgreSQL, as ``= ANY(array)`` (passed as a list).
        Rows are the driver's tuples: booleans stay 0/1 where the database has no boolean.
        """
        compiled = self._compiled(conn)
        sql, params = _expanded(conn, compiled, ids)
        if sql is None:
            return list(conn.execute(compiled.statement, {"ids": list(ids)}).all())
        cursor = _cursor(conn)
        try:
            _execute(conn, cursor, sql, params)
            # A list whatever the driver: mysqlclient's fetchall gives a tuple, and callers sort
            # the rows in place.
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def all(self, conn: Connection, **values: Any) -> list[Any]:
        """Every row of a query run with ``values``, as the driver's tuples.

        For reads of many thousand narrow rows (a metric's history): SQLAlchemy's result
        processing is skipped, and PostgreSQL sends the rows in its binary format, which
        psycopg 3 turns into ints and floats without parsing their text.
        """
        compiled = self._compiled(conn)
        raw = conn.connection.dbapi_connection
        # psycopg 3 only: psycopg2 (postgresql+psycopg2://) has no binary cursors.
        binary = conn.dialect.driver == "psycopg"
        cursor = raw.cursor(binary=True) if binary else raw.cursor()  # type: ignore[union-attr]
        try:
            _execute(conn, cursor, compiled.sql, _params(compiled, values))
            return list(cursor.fetchall())
        finally:
            cursor.close()


# How SQLAlchemy writes an expanding parameter named ``ids`` in a compiled statement's text.
_EXPANDING_IDS = "__[POSTCOMPILE_ids]"
_PLACEHOLDERS = {"qmark": "?", "format": "%s"}


def _expanded(conn: Connection, compiled: _Compiled, ids: Sequence[str]) -> tuple[str | None, Any]:
    if _EXPANDING_IDS not in compiled.sql:
        return compiled.sql, _params(compiled, {"ids": list(ids)})
    placeholder = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if placeholder is None or not ids:
        return None, None  # left to SQLAlchemy (it also renders an empty IN correctly)
    return compiled.sql.replace(_EXPANDING_IDS, ", ".join([placeholder] * len(ids))), tuple(ids)


def _params(compiled: _Compiled, row: Mapping[str, Any]) -> Any:
    if compiled.order is None:
        return row
    return tuple(row[name] for name in compiled.order)


def _cursor(conn: Connection) -> Any:
    # The driver's own cursor on the connection's current transaction: SQLAlchemy's execution
    # machinery around a statement costs more than SQLite takes to run these ones.
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _raw_cursor(conn: Connection) -> Any:
    # psycopg's RawCursor sends the query as written ($1 placeholders), without parsing it.
    from psycopg import RawCursor

    return RawCursor(conn.connection.dbapi_connection)  # type: ignore[call-overload]


def _execute(conn: Connection, cursor: Any, sql: str, params: Any, many: bool = False) -> None:
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        # Raised as SQLAlchemy would (IntegrityError, OperationalError...), and a broken
        # connection is invalidated so that the pool never hands it out again.
        if conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor):
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc


def execute_raw(conn: Connection, cursor: Any, sql: str, params: Any) -> None:
    """Run driver SQL written for ``cursor``'s placeholder style, errors raised as SQLAlchemy's
    (for statements built by hand, not from a Core statement)."""
    _execute(conn, cursor, sql, params)


def one_of(dialect: str, column: Any) -> Any:
    """``column`` is one of the ``ids`` bound at run time (``Prepared.all_for_ids``): an
    expanding ``IN``, or on PostgreSQL ``= ANY(array)``, one parameter the server parses once
    whatever the number of ids."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # only PostgreSQL servers load it

        return column == any_(bindparam("ids", type_=ARRAY(String)))
    return column.in_(bindparam("ids", expanding=True))
