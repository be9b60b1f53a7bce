"""``experiments/search`` in one SQL query per page, with MLflow's semantics.

- ``name`` compares case-sensitively except with ILIKE (as for runs, on every database);
  ``experiment_id`` takes =, !=, IN, NOT IN; ``creation_time``/``last_update_time`` compare
  as integers.
- ``tags.k op v`` only matches experiments that have the tag; ``IS [NOT] NULL`` tests presence.
- Order: the requested keys (NULL times last), then ``experiment_id`` — descending when the
  caller chose an order without it, as MLflow does; ``creation_time DESC, experiment_id`` when
  no order is given.

Experiments are few (thousands at most), so pages are by offset; the token also pins the query.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, FromClause, and_, exists, not_, select

from trackd.errors import invalid_parameter
from trackd.service.filters import Clause
from trackd.service.order_by import OrderKey, with_tiebreakers
from trackd.service.paging import fingerprint, offset_token, read_offset
from trackd.store.runs_search import VIEW_STAGES, SortPart, compare, order_terms
from trackd.store.tables import experiment_tags, experiments

_COLUMNS = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}
_NOT_NULL = {"name", "experiment_id"}


def _tag_filter(clause: Clause, dialect: str) -> tuple[FromClause | None, ColumnElement[bool]]:
    key_match = compare(experiment_tags.c.key, "=", clause.key, dialect)
    if clause.op in ("IS NULL", "IS NOT NULL"):
        found = exists().where(
            experiment_tags.c.experiment_id == experiments.c.experiment_id, key_match
        )
        return None, found if clause.op == "IS NOT NULL" else not_(found)
    alias = experiment_tags.alias()
    return alias, and_(
        alias.c.experiment_id == experiments.c.experiment_id,
        compare(alias.c.key, "=", clause.key, dialect),
        compare(alias.c.value, clause.op, clause.value, dialect),
    )


def search_experiment_ids(
    conn: Connection,
    clauses: Sequence[Clause],
    view_type: str,
    order_by: Sequence[OrderKey],
    max_results: int,
    page_token: str | None,
) -> tuple[list[int], str | None]:
    """The experiment ids of one page, in order, and the next page's token (None on the last
    page). ``clauses`` from ``parse_filter("experiments", ...)``, ``order_by`` from
    ``parse_order_by("experiments", ...)``."""
    if view_type not in VIEW_STAGES:
        raise invalid_parameter(f"Invalid view type '{view_type}'")
    if max_results < 1:
        raise invalid_parameter(f"Invalid value {max_results} for parameter 'max_results'")
    query = fingerprint("experiments", view_type, list(clauses), list(order_by))
    offset = read_offset(page_token, query)
    dialect = conn.dialect.name

    source: FromClause = experiments
    stages = VIEW_STAGES[view_type]
    where: list[ColumnElement[bool]] = [
        experiments.c.lifecycle_stage == stages[0]
        if len(stages) == 1
        else experiments.c.lifecycle_stage.in_(stages)
    ]
    for clause in clauses:
        if clause.entity == "tag":
            table, condition = _tag_filter(clause, dialect)
            if table is None:
                where.append(condition)
            else:
                source = source.join(table, condition)
        elif clause.entity == "attribute" and clause.key in _COLUMNS:
            where.append(compare(_COLUMNS[clause.key], clause.op, clause.value, dialect))
        else:
            raise invalid_parameter(f"Invalid token type: {clause.entity}")

    parts = [
        SortPart(_COLUMNS[k.key], k.ascending, None if k.key in _NOT_NULL else "last")
        for k in with_tiebreakers("experiments", order_by)
        if k.entity == "attribute" and k.key in _COLUMNS
    ]
    stmt = (
        select(experiments.c.experiment_id)
        .select_from(source)
        .where(*where)
        .order_by(*order_terms(parts, dialect))
        .limit(max_results + 1)
        .offset(offset)
    )
    ids = [int(row[0]) for row in conn.execute(stmt)]
    if len(ids) <= max_results:
        return ids, None
    return ids[:max_results], offset_token(query, offset + max_results)
