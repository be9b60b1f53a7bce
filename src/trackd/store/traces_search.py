"""Searching traces: one SELECT of trace ids over ``trace_info``, filtered and ordered as MLflow's
SQL store does, paged by offset (a page of trace infos is small next to a page of runs).

Conditions come from :func:`trackd.service.trace_filters.parse_trace_filter`; their SQL is
in :mod:`trackd.store.trace_conditions`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, and_, false, select, true
from sqlalchemy.exc import DBAPIError

from trackd.errors import invalid_parameter
from trackd.service.trace_filters import TraceCondition, span_time_floor_ms
from trackd.store.tables import trace_info
from trackd.store.trace_conditions import conditions

_T = trace_info.c
_ORDER_COLUMNS = {
    "status": _T.status,
    "request_id": _T.request_id,
    "client_request_id": _T.client_request_id,
    "name": _T.trace_name,
    "timestamp_ms": _T.timestamp_ms,
    "execution_time_ms": _T.execution_time_ms,
    "experiment_id": _T.experiment_id,
}


def search_ids(conn: Connection, experiment_ids: Sequence[int],
               clauses: tuple[TraceCondition, ...],
               order_by: Sequence[tuple[str, bool]], offset: int, limit: int) -> list[str]:
    """Trace ids of one page; ``order_by`` is (attribute key, ascending) pairs."""
    where: list[ColumnElement[bool]] = [
        _T.experiment_id.in_(list(experiment_ids)) if experiment_ids else false()
    ]
    where += conditions(clauses, conn.dialect.name, experiment_ids, span_time_floor_ms(clauses))
    keys = [(_ORDER_COLUMNS[k].asc() if asc else _ORDER_COLUMNS[k].desc()) for k, asc in order_by]
    if not any(k == "request_id" for k, _ in order_by):
        keys.append(_T.request_id.asc())  # a total order, so pages never overlap
    query = (select(_T.request_id).where(and_(true(), *where)).order_by(*keys)
             .offset(offset).limit(limit))
    try:
        return [row[0] for row in conn.execute(query)]
    except DBAPIError as exc:
        if not _refused_pattern(exc):
            raise
        # Each database has its own regular expression dialect; a pattern Python took may
        # still be one the database refuses: that is the filter's fault, not the server's.
        raise invalid_parameter(
            f"The database refused a regular expression of the filter (RLIKE): {exc.orig}"
        ) from None


# PostgreSQL's SQLSTATE for a bad pattern; MySQL's (3685-3699) and MariaDB's (1139) errors.
_PG_BAD_REGEX = "2201B"
_MYSQL_BAD_REGEX = frozenset({1139, *range(3685, 3700)})


def _refused_pattern(exc: DBAPIError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_BAD_REGEX:
        return True
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and args[0] in _MYSQL_BAD_REGEX
