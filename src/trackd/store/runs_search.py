"""``runs/search`` in one SQL query per page, with MLflow's semantics on every database.

Semantics (MLflow 3.18's SQL store, facts checked against it):
- ``metrics.k op v`` compares the run's latest value (``latest_metrics``); a NaN latest value
  (stored as 0 with ``is_nan``) satisfies only ``!=``.
- A param/tag/metric condition other than IS NULL only matches runs that have the key, so
  ``params.p != 'x'`` skips runs without ``p``. ``run_name`` conditions read the
  ``mlflow.runName`` tag; sorting by ``run_name`` reads the ``runs.name`` column.
- ``datasets.<name|digest|context>`` matches runs with at least one such input dataset.
- String ``=``, ``!=``, ``LIKE``, ``IN`` are case-sensitive and ``ILIKE`` is not, on every
  database: SQLite's LIKE ignores case, so LIKE runs as GLOB there; MySQL's collations ignore
  case, so comparisons go through BINARY there (after a plain comparison an index can use).
- Order: the requested keys, then ``start_time DESC``, then ``run_id``. Rows without a value
  for a key sort after all rows with one, in both directions; for metrics NaN comes after the
  numbers and before missing values.

Paging is by key ("keyset"): the token holds the sort key of the page's last row and the next
page starts after it, so no page re-reads and sorts the pages before it. Filters on metrics,
params and tags are semi-joins (``run_uuid IN (SELECT ...)``), which never duplicate a run;
sort keys are outer joins on the ``(key, run_uuid)`` primary keys, one row per run at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    and_,
    case,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from trackd.errors import invalid_parameter
from trackd.service.filters import Clause
from trackd.service.order_by import OrderKey, with_tiebreakers
from trackd.service.paging import decode_token, encode_token, fingerprint
from trackd.store.tables import datasets, input_tags, inputs, latest_metrics, params, runs, tags

VIEW_STAGES = {
    "ACTIVE_ONLY": ("active",),
    "DELETED_ONLY": ("deleted",),
    "ALL": ("active", "deleted"),
}
RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"
_ENTITY_TABLES = {"metric": latest_metrics, "param": params, "tag": tags}
_RUN_COLUMNS = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}


# ---------------------------------------------------------------------------------------------
# Dialect-aware comparisons and orderings (shared with experiments_search).


def _glob(pattern: str) -> str:
    """A LIKE pattern as a case-sensitive SQLite GLOB pattern."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def compare(column: Any, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    """``column op value`` with MLflow's meaning: case-sensitive except ILIKE."""
    mysql = dialect in ("mysql", "mariadb")
    if op in ("IN", "NOT IN"):
        values = list(value)
        binary = mysql and all(isinstance(v, str) for v in values)
        test = func.binary(column).in_(values) if binary else column.in_(values)
        return test if op == "IN" else not_(test)
    if op == "ILIKE":
        return column.ilike(value)
    if op == "LIKE":
        if dialect == "sqlite":
            return column.op("GLOB")(_glob(value))
        if mysql:
            return and_(column.like(value), func.binary(column).like(value))
        return column.like(value)
    if mysql and op in ("=", "!=") and isinstance(value, str):
        # The plain comparison can use an index; BINARY makes it case-sensitive.
        if op == "=":
            return and_(column == value, func.binary(column) == value)
        return or_(column != value, func.binary(column) != value)
    return {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }[op](value)


@dataclass(frozen=True, slots=True)
class SortPart:
    """One ORDER BY term; ``nulls``: where NULLs go ("last", "first"), None if never NULL."""

    expr: Any
    ascending: bool
    nulls: str | None = "last"


def native_nulls(dialect: str, ascending: bool) -> str:
    """Where the database puts NULLs by itself: PostgreSQL treats NULL as the largest value,
    the others as the smallest."""
    return "last" if (dialect == "postgresql") == ascending else "first"


def order_terms(parts: Sequence[SortPart], dialect: str) -> list[Any]:
    terms: list[Any] = []
    for part in parts:
        expr = part.expr
        ordered = expr.asc() if part.ascending else expr.desc()
        if part.nulls is not None and part.nulls != native_nulls(dialect, part.ascending):
            if dialect in ("postgresql", "sqlite"):
                ordered = ordered.nulls_last() if part.nulls == "last" else ordered.nulls_first()
            else:  # MySQL and SQL Server have no NULLS FIRST/LAST
                first, then = (1, 0) if part.nulls == "last" else (0, 1)
                terms.append(case((expr.is_(None), first), else_=then))
        terms.append(ordered)
    return terms


def after_key(parts: Sequence[SortPart], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows that sort strictly after the row whose sort key is ``values``."""
    alternatives = []
    equal_so_far: list[ColumnElement[bool]] = []
    for part, value in zip(parts, values, strict=True):
        expr = part.expr
        if value is None:
            if part.nulls == "first":
                alternatives.append(and_(*equal_so_far, expr.is_not(None)))
            equal_so_far.append(expr.is_(None))
            continue
        later = expr > value if part.ascending else expr < value
        if part.nulls == "last":
            later = or_(later, expr.is_(None))
        alternatives.append(and_(*equal_so_far, later))
        equal_so_far.append(expr == value)
    return or_(*alternatives) if alternatives else false()


# ---------------------------------------------------------------------------------------------
# Filters.


def _key_match(table: FromClause, key: str, dialect: str) -> ColumnElement[bool]:
    return compare(table.c.key, "=", key, dialect)


_ZERO_MATCHES = {
    "=": lambda v: v == 0,
    "!=": lambda v: v != 0,
    "<": lambda v: v > 0,
    "<=": lambda v: v >= 0,
    ">": lambda v: v < 0,
    ">=": lambda v: v <= 0,
}


def _unindexed(column: Any) -> Any:
    """``+column``: SQLite then cannot drive the query from this term (see _run_filter)."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _run_filter(clause: Clause, dialect: str) -> ColumnElement[bool]:
    entity, key, op, value = clause.entity, clause.key, clause.op, clause.value
    if entity == "attribute" and key == "run_name":
        entity, key = "tag", RUN_NAME_TAG
    if entity == "attribute":
        return compare(_RUN_COLUMNS[key], op, value, dialect)
    if entity == "dataset":
        return _dataset_exists(key, op, value, dialect)
    table = _ENTITY_TABLES[entity]
    if op in ("IS NULL", "IS NOT NULL"):
        found = exists().where(table.c.run_uuid == runs.c.run_uuid, _key_match(table, key, dialect))
        return found if op == "IS NOT NULL" else not_(found)
    condition = compare(table.c.value, op, value, dialect)
    if entity == "metric":
        # NaN is stored as value 0 with is_nan set, and NaN satisfies only `!=`. Testing is_nan
        # only where the stored 0 would decide wrongly keeps (key, value) indexes covering.
        if op == "!=" and value == 0:
            condition = or_(condition, table.c.is_nan == true())
        elif op != "!=" and _ZERO_MATCHES[op](value):
            condition = and_(condition, table.c.is_nan == false())
    matching = select(table.c.run_uuid).where(_key_match(table, key, dialect), condition)
    # A semi-join each planner can run either way round. SQLite has no statistics on values
    # to choose with, so it is told not to drive from the filter: it walks the runs in sort
    # order and tests membership in the (once materialised) set, which bounds the cost by
    # the runs of the experiments whether the filter keeps 1% or 99% of them.
    outer = _unindexed(runs.c.run_uuid) if dialect == "sqlite" else runs.c.run_uuid
    return outer.in_(matching)


def _dataset_exists(key: str, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    link = inputs.alias()
    data = datasets.alias()
    where = [
        link.c.destination_type == "RUN",
        link.c.destination_id == runs.c.run_uuid,
        link.c.source_type == "DATASET",
        data.c.dataset_uuid == link.c.source_id,
    ]
    if key == "context":
        tag = input_tags.alias()
        where += [
            tag.c.input_uuid == link.c.input_uuid,
            tag.c.name == DATASET_CONTEXT_TAG,
            compare(tag.c.value, op, value, dialect),
        ]
    else:
        where.append(compare(data.c[key], op, value, dialect))
    return exists().where(*where)


# ---------------------------------------------------------------------------------------------
# Ordering.


def _sort_parts(
    order_by: Sequence[OrderKey], dialect: str
) -> tuple[list[SortPart], list[tuple[Any, ColumnElement[bool]]]]:
    parts: list[SortPart] = []
    joins: list[tuple[Any, ColumnElement[bool]]] = []
    keys = with_tiebreakers("runs", order_by)
    for position, k in enumerate(keys):
        if k.entity == "attribute":
            column = _RUN_COLUMNS[k.key]
            if k.key == "run_id":
                nulls = None
            elif position >= len(order_by):
                # MLflow's implicit start_time DESC leaves NULLs where the database puts them;
                # that also lets an index on start_time serve the order.
                nulls = native_nulls(dialect, k.ascending)
            else:
                nulls = "last"
            parts.append(SortPart(column, k.ascending, nulls))
            continue
        alias = _ENTITY_TABLES[k.entity].alias()
        joins.append(
            (alias, and_(alias.c.run_uuid == runs.c.run_uuid, _key_match(alias, k.key, dialect)))
        )
        if k.entity == "metric":
            rank = case((alias.c.is_nan == true(), 1), (alias.c.value.is_(None), 2), else_=0)
            parts.append(SortPart(rank, True, None))
        parts.append(SortPart(alias.c.value, k.ascending))
    return parts, joins


def _check_duplicates(keys: Sequence[OrderKey]) -> None:
    seen = {(k.entity, k.key) for k in keys}
    if len(seen) != len(keys):
        raise invalid_parameter(f"`order_by` contains duplicate fields: {list(keys)}")


# ---------------------------------------------------------------------------------------------


def search_run_ids(
    conn: Connection,
    experiment_ids: list[int],
    clauses: Sequence[Clause],
    view_type: str,
    order_by: Sequence[OrderKey],
    max_results: int,
    page_token: str | None,
) -> tuple[list[str], str | None]:
    """The run_uuids of one page, in order, and the token of the next page (None when this
    page is the last). ``clauses`` from ``parse_filter("runs", ...)``, ``order_by`` from
    ``parse_order_by("runs", ...)`` (tie-breakers are added here)."""
    if view_type not in VIEW_STAGES:
        raise invalid_parameter(f"Invalid view type '{view_type}'")
    if max_results < 1:
        raise invalid_parameter(f"Invalid value {max_results} for parameter 'max_results'")
    _check_duplicates(order_by)
    query = fingerprint("runs", sorted(experiment_ids), view_type, list(clauses), list(order_by))
    after = _read_token(page_token, query)
    if not experiment_ids:
        return [], None
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Right after runs are logged (before autovacuum has analyzed the tables) PostgreSQL
        # estimates one row per table and nests loops that join on filters instead of index
        # keys: minutes for a thousand runs. Hash and merge joins cost milliseconds at any
        # statistics; SET LOCAL ends with this read's transaction.
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    parts, sort_joins = _sort_parts(order_by, dialect)
    if after is not None and len(after) != len(parts):
        raise invalid_parameter(f"Invalid page token '{page_token}'.")

    source: FromClause = runs
    where = [
        _one_of(runs.c.experiment_id, experiment_ids),
        _one_of(runs.c.lifecycle_stage, VIEW_STAGES[view_type]),
    ]
    where += [_run_filter(clause, dialect) for clause in clauses]
    for table, on in sort_joins:
        source = source.outerjoin(table, on)
    if after is not None:
        where.append(after_key(parts, after))

    stmt = (
        select(runs.c.run_uuid, *(p.expr for p in parts))
        .select_from(source)
        .where(*where)
        .order_by(*order_terms(parts, dialect))
        .limit(max_results + 1)
    )
    rows = conn.execute(stmt).all()
    if len(rows) <= max_results:
        return [r[0] for r in rows], None
    last = rows[max_results - 1]
    token = encode_token({"q": query, "after": [_jsonable(v) for v in last[1:]]})
    return [r[0] for r in rows[:max_results]], token


def _one_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    # `=` rather than a one-element IN, so that every planner sees an index prefix it can walk.
    return column == values[0] if len(values) == 1 else column.in_(values)


def _read_token(token: str | None, query: str) -> list[Any] | None:
    if not token:
        return None
    after = decode_token(token, query).get("after")
    scalars = (type(None), bool, int, float, str)
    if not isinstance(after, list) or not all(isinstance(v, scalars) for v in after):
        raise invalid_parameter(f"Invalid page token '{token}'.")
    return after


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    return float(value) if hasattr(value, "__float__") else str(value)
