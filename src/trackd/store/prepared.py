"""Hot statements built and compiled once per dialect, then executed as plain driver SQL.

Building a SQLAlchemy statement and compiling it costs far more than SQLite takes to run it:
measured on this project's machine, one ``log-metric`` spent ~0.5 ms in statement
construction (``Insert.excluded`` aliases, cache keys) against ~10 µs of SQLite work. The
handful of statements on the write hot paths (log-metric, log-batch, set-tag, log-param,
create-run) are therefore described once, compiled once for the connection's dialect, and run
with ``exec_driver_sql``: the transaction, the error wrapping and the pool stay SQLAlchemy's.

A statement is written as a function of the dialect name returning a SQLAlchemy Core
statement whose bind parameters are named; callers pass rows as dicts keyed by those names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.sql.expression import Executable

# Above this many rows PostgreSQL gets SQLAlchemy's own execution, which folds an
# executemany into multi-row VALUES (one round trip per 1,000 rows instead of a pipeline).
_MULTI_ROW = 8


class _Compiled:
    __slots__ = ("statement", "sql", "order")

    def __init__(self, statement: Any, sql: str, order: tuple[str, ...] | None) -> None:
        self.statement = statement
        self.sql = sql
        self.order = order  # bind names in position order for positional paramstyles


class Prepared:
    """One statement, compiled lazily per dialect; thread-safe, shared by all requests."""

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
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

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> CursorResult[Any]:
        """Execute for one row or many (executemany); ``rows`` must not be empty."""
        compiled = self._compiled(conn)
        if len(rows) > _MULTI_ROW and conn.dialect.name == "postgresql":
            return conn.execute(compiled.statement, list(rows))
        params: Any
        if compiled.order is not None:
            order = compiled.order
            params = [tuple(row[name] for name in order) for row in rows]
        else:
            params = list(rows)
        if len(params) == 1:
            params = params[0]
        return conn.exec_driver_sql(compiled.sql, params)

    def one(self, conn: Connection, **values: Any) -> Any:
        """The first row of a query run with ``values``, or None."""
        return self.run(conn, [values]).first()
