"""Searching traces: one SELECT of trace ids over ``trace_info``, filtered and ordered as MLflow's
SQL store does, paged by offset (a page of trace infos is small next to a page of runs).

Conditions come from :func:`trackd.service.trace_filters.parse_trace_filter`; their SQL is
in :mod:`trackd.store.trace_conditions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, false, select, true
from sqlalchemy.exc import DBAPIError

from trackd.errors import invalid_parameter
from trackd.service.trace_filters import TraceCondition, span_time_floor_ms
from trackd.store.prepared import Prepared
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


def _order(order_by: Sequence[tuple[str, bool]]) -> list[Any]:
    keys = [(_ORDER_COLUMNS[k].asc() if asc else _ORDER_COLUMNS[k].desc()) for k, asc in order_by]
    if not any(k == "request_id" for k, _ in order_by):
        keys.append(_T.request_id.asc())  # a total order, so pages never overlap
    return keys


# A search without a filter (what the client sends to list an experiment's traces, page after
# page) is one statement per order and number of experiments, compiled once: building and
# compiling it per request cost SQLAlchemy several times what the database spends on it.
_PLAIN_DIALECTS = ("sqlite", "postgresql", "mysql")
_PLAIN_MAX_EXPERIMENTS = 8
_PLAIN_KEPT = 64
_plain: dict[tuple[tuple[tuple[str, bool], ...], int], Prepared] = {}


def _plain_search(order_by: tuple[tuple[str, bool], ...], n_experiments: int) -> Prepared | None:
    key = (order_by, n_experiments)
    found = _plain.get(key)
    if found is None:
        if len(_plain) >= _PLAIN_KEPT:
            return None  # an unusual order: built per request, as a filtered search is
        found = Prepared(lambda _dialect: select(_T.request_id).where(
            _T.experiment_id.in_([bindparam(f"e{i}") for i in range(n_experiments)]))
            .order_by(*_order(order_by)).offset(bindparam("offset")).limit(bindparam("limit")))
        _plain[key] = found
    return found


def search_ids(conn: Connection, experiment_ids: Sequence[int],
               clauses: tuple[TraceCondition, ...],
               order_by: Sequence[tuple[str, bool]], offset: int, limit: int) -> list[str]:
    """Trace ids of one page; ``order_by`` is (attribute key, ascending) pairs."""
    if not clauses and 0 < len(experiment_ids) <= _PLAIN_MAX_EXPERIMENTS \
            and conn.dialect.name in _PLAIN_DIALECTS:
        plain = _plain_search(tuple(order_by), len(experiment_ids))
        if plain is not None:
            binds = {f"e{i}": e for i, e in enumerate(experiment_ids)}
            return [row[0] for row in plain.all(conn, offset=offset, limit=limit, **binds)]
    return built_search_ids(conn, experiment_ids, clauses, order_by, offset, limit)


def built_search_ids(conn: Connection, experiment_ids: Sequence[int],
                     clauses: tuple[TraceCondition, ...],
                     order_by: Sequence[tuple[str, bool]], offset: int, limit: int) -> list[str]:
    """search_ids with the statement built for this request (any filter)."""
    where: list[ColumnElement[bool]] = [
        _T.experiment_id.in_(list(experiment_ids)) if experiment_ids else false()
    ]
    where += conditions(clauses, conn.dialect.name, experiment_ids, span_time_floor_ms(clauses))
    query = (select(_T.request_id).where(and_(true(), *where)).order_by(*_order(order_by))
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
