"""The ``issues`` and ``issue_categories`` tables (SQL only).

MLflow keeps an issue's categories twice: as a JSON list on the row (what the API returns, in
the order given) and as one ``issue_categories`` row per distinct category, keyed by a hash of
its trimmed, lower-cased text (what category search matches on). Both are written here in the
same transaction so they never disagree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from trackd.entities.issues import SEVERITIES, Issue

_i = sa.table("issues", *(sa.column(c) for c in (
    "issue_id", "experiment_id", "name", "description", "status", "severity", "root_causes",
    "source_run_id", "categories", "created_timestamp", "last_updated_timestamp", "created_by",
    "last_seen_timestamp", "last_updated_by", "metadata")))
_cat = sa.table("issue_categories", sa.column("issue_id"), sa.column("category_hash"),
                sa.column("category"))
_assessments = sa.table("assessments", sa.column("name"), sa.column("assessment_type"),
                        sa.column("trace_id"))
_C = _i.c


def category_hash(category: str) -> str:
    """The key MLflow indexes categories by: case and surrounding blanks do not count."""
    return hashlib.sha256(category.strip().lower().encode()).hexdigest()


def _json_list(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []


def _issue(r: Any, trace_count: int | None = None) -> Issue:
    return Issue(
        issue_id=r.issue_id, experiment_id=int(r.experiment_id), name=r.name,
        description=r.description, status=r.status, created_ms=int(r.created_timestamp),
        updated_ms=int(r.last_updated_timestamp), severity=r.severity,
        root_causes=_json_list(r.root_causes), source_run_id=r.source_run_id,
        categories=_json_list(r.categories), created_by=r.created_by,
        last_seen_ms=None if r.last_seen_timestamp is None else int(r.last_seen_timestamp),
        last_updated_by=r.last_updated_by,
        metadata=json.loads(r.metadata) if r.metadata else {}, trace_count=trace_count,
    )


def _values(issue: Issue) -> dict[str, Any]:
    return {
        "name": issue.name, "description": issue.description, "status": issue.status,
        "severity": issue.severity,
        "root_causes": json.dumps(issue.root_causes) if issue.root_causes else None,
        "categories": json.dumps(issue.categories) if issue.categories else None,
        "last_updated_timestamp": issue.updated_ms, "last_seen_timestamp": issue.last_seen_ms,
        "last_updated_by": issue.last_updated_by,
        # An update that empties the map writes "{}", as MLflow does; both read back as {}.
        "metadata": json.dumps(issue.metadata) if issue.metadata else None,
    }


def _write_categories(conn: Connection, issue_id: str, categories: list[str]) -> None:
    conn.execute(sa.delete(_cat).where(_cat.c.issue_id == issue_id))
    by_hash = {category_hash(c): c for c in categories}  # the last spelling of a key wins
    if by_hash:
        conn.execute(sa.insert(_cat), [{"issue_id": issue_id, "category_hash": h, "category": c}
                                       for h, c in by_hash.items()])


def exists(conn: Connection, issue_id: str) -> bool:
    return conn.scalar(sa.select(_C.issue_id).where(_C.issue_id == issue_id)) is not None


def insert(conn: Connection, issue: Issue) -> None:
    conn.execute(sa.insert(_i).values(
        issue_id=issue.issue_id, experiment_id=issue.experiment_id,
        source_run_id=issue.source_run_id, created_timestamp=issue.created_ms,
        created_by=issue.created_by, **_values(issue)))
    _write_categories(conn, issue.issue_id, issue.categories)


def update(conn: Connection, issue: Issue, *, categories_changed: bool,
           metadata_text: str | None) -> None:
    values = _values(issue)
    values["metadata"] = metadata_text
    conn.execute(sa.update(_i).where(_C.issue_id == issue.issue_id).values(**values))
    if categories_changed:
        _write_categories(conn, issue.issue_id, issue.categories)


def get(conn: Connection, issue_id: str, *, for_update: bool = False) -> Issue | None:
    query = sa.select(_i).where(_C.issue_id == issue_id)
    if for_update and conn.dialect.name != "sqlite":  # SQLite's writer lock already serialises
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _issue(row)


@dataclass
class IssueQuery:
    experiment_id: int | None = None
    clauses: tuple[tuple[str, str, str], ...] = ()  # (column, "=" or "!=", value)
    name: str | None = None
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    include_trace_count: bool = False


def _severity_rank() -> Any:
    return sa.case({s: n for n, s in enumerate(SEVERITIES)}, value=_C.severity, else_=-1)


_SORTABLE = {
    "name": lambda: sa.func.lower(_C.name),
    "status": lambda: sa.case({"pending": 0, "rejected": 1, "resolved": 2}, value=_C.status,
                              else_=3),
    "severity": _severity_rank,
    "created_timestamp": lambda: _C.created_timestamp,
    "last_updated_timestamp": lambda: _C.last_updated_timestamp,
    "last_seen_timestamp": lambda: sa.func.coalesce(_C.last_seen_timestamp,
                                                    _C.created_timestamp),
}


def _where(q: IssueQuery) -> list[Any]:
    where: list[Any] = []
    if q.experiment_id is not None:
        where.append(_C.experiment_id == q.experiment_id)
    for column, op, value in q.clauses:
        col = _C[column]
        # `!=` keeps MLflow's SQL meaning: a NULL source_run_id matches neither = nor !=.
        where.append(col == value if op == "=" else col != value)
    if q.name is not None:
        escaped = q.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(sa.func.lower(_C.name).like(f"%{escaped.lower()}%", escape="\\"))
    if q.statuses:
        where.append(_C.status.in_(q.statuses))
    if q.severities:
        where.append(_C.severity.in_(q.severities))
    if q.categories:
        hashes = [category_hash(c) for c in q.categories]
        where.append(sa.exists().where(_cat.c.issue_id == _C.issue_id,
                                       _cat.c.category_hash.in_(hashes)))
    return where


def count(conn: Connection, q: IssueQuery) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(_i).where(*_where(q))) or 0)


def search(conn: Connection, q: IssueQuery, offset: int, limit: int) -> list[Issue]:
    """One page; without ``order_by``, MLflow's order: most severe first, then (with counts)
    the most traces, then newest. The issue id breaks every tie."""
    columns: list[Any] = [_i]
    trace_count = None
    if q.include_trace_count:
        # An issue's traces are those with an assessment of type "issue" named by its id.
        trace_count = (sa.select(sa.func.count(sa.distinct(_assessments.c.trace_id)))
                       .where(_assessments.c.assessment_type == "issue",
                              _assessments.c.name == _C.issue_id)
                       .scalar_subquery().label("trace_count"))
        columns.append(trace_count)
    if q.order_by:
        order = [_SORTABLE[f]().desc() if desc else _SORTABLE[f]().asc() for f, desc in q.order_by]
    else:
        order = [_severity_rank().desc()]
        if trace_count is not None:
            order.append(trace_count.desc())
        order.append(_C.created_timestamp.desc())
    order.append(_C.issue_id.desc())
    query = sa.select(*columns).where(*_where(q)).order_by(*order).offset(offset).limit(limit)
    return [_issue(r, int(r.trace_count) if q.include_trace_count else None)
            for r in conn.execute(query)]


_runs = sa.table("runs", sa.column("run_uuid"), sa.column("experiment_id"))


def run_experiment(conn: Connection, run_id: str) -> int | None:
    """The experiment a run belongs to (an issue's source run must be in the issue's)."""
    found = conn.scalar(sa.select(_runs.c.experiment_id).where(_runs.c.run_uuid == run_id))
    return None if found is None else int(found)


def metadata_text(metadata: dict[str, str] | None, *, keep_empty: bool = False) -> str | None:
    """The ``metadata`` column's text; an update that empties the map stores ``{}`` (as MLflow
    does), a row that never had any keeps NULL."""
    if metadata is None or (not metadata and not keep_empty):
        return None
    return json.dumps(metadata)
