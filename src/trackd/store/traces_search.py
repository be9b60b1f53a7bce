"""Searching traces: one SELECT of trace ids over ``trace_info``, filtered and ordered as MLflow's
SQL store does, paged by offset (a page of trace infos is small next to a page of runs).

Clauses come from ``parse_filter("traces", ...)``: attributes are columns (``name`` is the
``trace_name`` column, ``run_id`` the ``mlflow.sourceRun`` metadata), tags and metadata (the
``param`` entity of the parsed clause) are EXISTS subqueries on their tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from trackd.entities.traces import SESSION_METADATA, SOURCE_RUN_METADATA, TRACE_NAME_TAG
from trackd.service.filters import Clause
from trackd.store.tables import (
    entity_associations,
    trace_info,
    trace_request_metadata,
    trace_tags,
)

_T = trace_info.c
_COLUMNS = {
    "status": _T.status,
    "request_id": _T.request_id,
    "client_request_id": _T.client_request_id,
    "name": _T.trace_name,
    "timestamp_ms": _T.timestamp_ms,
    "execution_time_ms": _T.execution_time_ms,
    "experiment_id": _T.experiment_id,
}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "LIKE":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return func.lower(column).like(func.lower(value))
    if op == "IN":
        return column.in_(list(value))  # type: ignore[no-any-return]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[no-any-return]
    raise ValueError(f"unexpected comparator {op}")  # parse_filter allows no other


def _keyed(table: Any, key: str, op: str, value: Any) -> ColumnElement[bool]:
    """A tag or metadata condition: the key is present and its value compares."""
    c = table.c
    match = exists().where(c.request_id == _T.request_id, c.key == key)
    if op == "IS NULL":
        return not_(match)
    if op == "IS NOT NULL":
        return match
    return exists().where(c.request_id == _T.request_id, c.key == key,
                          _compare(c.value, op, value))


def _linked_run(op: str, value: Any) -> ColumnElement[bool]:
    e = entity_associations.c
    return exists().where(e.source_type == "trace", e.source_id == _T.request_id,
                          e.destination_type == "run", _compare(e.destination_id, op, value))


def _linked_prompt(value: Any) -> ColumnElement[bool]:
    e = entity_associations.c
    return exists().where(e.source_type == "trace", e.source_id == _T.request_id,
                          e.destination_type == "prompt_version", e.destination_id == value)


def condition(clause: Clause) -> ColumnElement[bool]:
    entity, key, op, value = clause.entity, clause.key, clause.op, clause.value
    if entity == "tag" and key == TRACE_NAME_TAG:  # kept in a column, as MLflow does
        entity, key = "attribute", "name"
    if entity == "attribute" and key == "run_id":
        # A trace belongs to a run through its mlflow.sourceRun metadata (traced inside the
        # run) or a link made by link-to-run, as in MLflow.
        return or_(_keyed(trace_request_metadata, SOURCE_RUN_METADATA, op, value),
                   _linked_run(op, value))
    if entity == "param" and key == SESSION_METADATA:  # kept in a column, as MLflow does
        if op in ("IS NULL", "IS NOT NULL"):
            return _T.session_id.is_(None) if op == "IS NULL" else _T.session_id.is_not(None)
        return _compare(_T.session_id, op, value)
    if entity == "attribute" and key == "prompt":
        return _linked_prompt(value)
    if entity == "attribute":
        return _compare(_COLUMNS[key], op, value)
    table = trace_tags if entity == "tag" else trace_request_metadata
    return _keyed(table, key, op, value)


def search_ids(conn: Connection, experiment_ids: Sequence[int], clauses: Sequence[Clause],
               order_by: Sequence[tuple[str, bool]], offset: int, limit: int) -> list[str]:
    """Trace ids of one page; ``order_by`` is (attribute key, ascending) pairs."""
    where: list[ColumnElement[bool]] = [
        _T.experiment_id.in_(list(experiment_ids)) if experiment_ids else false()
    ]
    where += [condition(c) for c in clauses]
    keys = [(_COLUMNS[k].asc() if asc else _COLUMNS[k].desc()) for k, asc in order_by]
    if not any(k == "request_id" for k, _ in order_by):
        keys.append(_T.request_id.asc())  # a total order, so pages never overlap
    query = (select(_T.request_id).where(and_(true(), *where)).order_by(*keys)
             .offset(offset).limit(limit))
    return [row[0] for row in conn.execute(query)]
