"""SQL for logged models: rows, params, tags, linked metrics, and search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from trackd.entities.logged_models import LoggedModel, status_from_filter
from trackd.entities.metrics import Metric
from trackd.errors import invalid_parameter
from trackd.service.filters import Clause
from trackd.store.runs_search import compare
from trackd.store.tables import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from trackd.store.upsert import insert_ignore, upsert

_LM = logged_models.c
_P = logged_model_params.c
_T = logged_model_tags.c
_M = logged_model_metrics.c

# Filter/order-by attribute names (after the parser's aliasing) -> columns.
ATTRIBUTE_COLUMNS: dict[str, Any] = {
    "name": _LM.name,
    "model_id": _LM.model_id,
    "model_type": _LM.model_type,
    "status": _LM.status,
    "source_run_id": _LM.source_run_id,
    "creation_timestamp": _LM.creation_timestamp_ms,
    "last_updated_timestamp": _LM.last_updated_timestamp_ms,
}
ORDER_ALIASES = {
    "creation_time": "creation_timestamp",
    "creation_timestamp_ms": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
    "last_updated_timestamp_ms": "last_updated_timestamp",
}

_COLUMNS = (
    _LM.model_id, _LM.experiment_id, _LM.name, _LM.artifact_location,
    _LM.creation_timestamp_ms, _LM.last_updated_timestamp_ms, _LM.status,
    _LM.lifecycle_stage, _LM.model_type, _LM.source_run_id, _LM.status_message,
)


def insert_model(
    conn: Connection,
    values: dict[str, Any],
    params: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
) -> None:
    conn.execute(insert(logged_models).values(values))
    model_id, experiment_id = values["model_id"], values["experiment_id"]
    insert_params(conn, model_id, experiment_id, params)
    set_tags(conn, model_id, experiment_id, tags)


def get_model(conn: Connection, model_id: str, *, allow_deleted: bool = True) -> LoggedModel | None:
    found = load_models(conn, [model_id])
    if not found or (not allow_deleted and found[0].lifecycle_stage == "deleted"):
        return None
    return found[0]


def get_row(conn: Connection, model_id: str) -> LoggedModel | None:
    """The model without params, tags and metrics (for checks before a write)."""
    row = conn.execute(select(*_COLUMNS).where(_LM.model_id == model_id)).first()
    return LoggedModel(*row) if row is not None else None


def load_models(conn: Connection, model_ids: Sequence[str]) -> list[LoggedModel]:
    """Whole models in the order of ``model_ids``: one query per child table."""
    if not model_ids:
        return []
    ids = list(model_ids)
    found = {
        row[0]: LoggedModel(*row)
        for row in conn.execute(select(*_COLUMNS).where(_LM.model_id.in_(ids)))
    }
    present = list(found)
    if not present:
        return []
    for model_id, key, value in conn.execute(
        select(_T.model_id, _T.tag_key, _T.tag_value)
        .where(_T.model_id.in_(present))
        .order_by(_T.tag_key)
    ):
        found[model_id].tags.append((key, value))
    for model_id, key, value in conn.execute(
        select(_P.model_id, _P.param_key, _P.param_value)
        .where(_P.model_id.in_(present))
        .order_by(_P.param_key)
    ):
        found[model_id].params.append((key, value))
    for row in conn.execute(
        select(
            _M.model_id, _M.metric_name, _M.metric_value, _M.metric_timestamp_ms,
            _M.metric_step, _M.run_id, _M.dataset_name, _M.dataset_digest,
        )
        .where(_M.model_id.in_(present))
        .order_by(_M.metric_name, _M.metric_step, _M.metric_timestamp_ms)
    ):
        model_id, key, value, ts, step, run_id, ds_name, ds_digest = row
        found[model_id].metrics.append(
            Metric(key, value if value is not None else 0.0, ts, step, run_id=run_id,
                   model_id=model_id, dataset_name=ds_name, dataset_digest=ds_digest)
        )
    return [found[i] for i in ids if i in found]


def update_model(conn: Connection, model_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(logged_models).where(_LM.model_id == model_id).values(values))


def insert_params(
    conn: Connection, model_id: str, experiment_id: int, items: Sequence[tuple[str, str]]
) -> None:
    # A param already logged keeps its first value, as run params do.
    insert_ignore(
        conn,
        logged_model_params,
        [
            {"model_id": model_id, "experiment_id": experiment_id, "param_key": k,
             "param_value": v}
            for k, v in dict(items).items()
        ],
    )


def set_tags(
    conn: Connection, model_id: str, experiment_id: int, items: Sequence[tuple[str, str]]
) -> None:
    upsert(
        conn,
        logged_model_tags,
        [
            {"model_id": model_id, "experiment_id": experiment_id, "tag_key": k, "tag_value": v}
            for k, v in dict(items).items()
        ],
        ["tag_value"],
    )


def delete_tag(conn: Connection, model_id: str, key: str) -> int:
    return conn.execute(
        delete(logged_model_tags).where(_T.model_id == model_id, _T.tag_key == key)
    ).rowcount


# -- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFilter:
    name: str
    digest: str | None = None


@dataclass(frozen=True)
class OrderBy:
    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


def _datasets_condition(datasets: Sequence[DatasetFilter]) -> ColumnElement[bool] | None:
    if not datasets:
        return None
    parts = []
    for d in datasets:
        cond = _M.dataset_name == d.name
        if d.digest is not None:
            cond = and_(cond, _M.dataset_digest == d.digest)
        parts.append(cond)
    return or_(*parts)


def _latest_metric(
    name: str, conditions: list[ColumnElement[bool]], experiment_ids: list[int]
) -> Any:
    """(model_id, metric_value) of each model's latest point of ``name`` (largest step, then
    timestamp, then value), among points matching ``conditions``; the value searches and
    orderings compare."""
    ranked = (
        select(
            _M.model_id,
            _M.metric_value,
            func.row_number()
            .over(
                partition_by=_M.model_id,
                order_by=(_M.metric_step.desc(), _M.metric_timestamp_ms.desc(),
                          _M.metric_value.desc()),
            )
            .label("rn"),
        )
        .where(
            _M.metric_name == name,
            _M.model_id.in_(select(_LM.model_id).where(_LM.experiment_id.in_(experiment_ids))),
            *conditions,
        )
        .subquery()
    )
    return select(ranked.c.model_id, ranked.c.metric_value).where(ranked.c.rn == 1).subquery()


def _compare(conn: Connection, column: Any, op: str, value: Any) -> ColumnElement[bool]:
    """MLflow's comparators (case-sensitive except ILIKE), shared with the runs search; numbers
    are compared plainly (BINARY would turn them into strings on MySQL)."""
    if isinstance(value, tuple) and value and not isinstance(value[0], str):
        return column.in_(list(value)) if op == "IN" else ~column.in_(list(value))
    return compare(column, op, value, conn.dialect.name)


def search_ids(
    conn: Connection,
    experiment_ids: list[int],
    clauses: Sequence[Clause],
    datasets: Sequence[DatasetFilter],
    order_by: Sequence[OrderBy],
    offset: int,
    limit: int,
) -> list[str]:
    query: Select[Any] = select(_LM.model_id).where(
        _LM.lifecycle_stage != "deleted", _LM.experiment_id.in_(experiment_ids)
    )
    datasets_cond = _datasets_condition(datasets)
    ds = [] if datasets_cond is None else [datasets_cond]
    has_metric_clause = False
    for clause in clauses:
        query = query.where(_clause(conn, clause, ds, experiment_ids))
        has_metric_clause = has_metric_clause or clause.entity == "metric"
    if datasets_cond is not None and not has_metric_clause:
        query = query.where(
            exists().where(_M.model_id == _LM.model_id, datasets_cond)
        )
    query, ordering = _ordering(query, order_by, ds, experiment_ids)
    rows = conn.execute(query.order_by(*ordering).offset(offset).limit(limit))
    return [row[0] for row in rows]


def _ordering(
    query: Select[Any],
    order_by: Sequence[OrderBy],
    ds: list[ColumnElement[bool]],
    experiment_ids: list[int],
) -> tuple[Select[Any], list[Any]]:
    """ORDER BY terms (NULLs last, without NULLS LAST, which MySQL lacks), then MLflow's
    tie-breakers: newest first, then model id."""
    terms: list[Any] = []
    named: set[str] = set()
    for item in order_by:
        if "." not in item.field_name:
            name = ORDER_ALIASES.get(item.field_name, item.field_name)
            column = ATTRIBUTE_COLUMNS.get(name)
            if column is None and name in logged_models.c:
                column = logged_models.c[name]
            if column is None:
                raise invalid_parameter(f"Invalid order by field name: {item.field_name}")
            named.add(column.name)
        else:
            entity, key = item.field_name.split(".", 1)
            if entity != "metrics":
                raise invalid_parameter(
                    f"Invalid order by field name: {item.field_name}. Only metrics are supported."
                )
            conditions = list(ds)
            if item.dataset_name:
                conditions.append(_M.dataset_name == item.dataset_name)
            if item.dataset_digest:
                conditions.append(_M.dataset_digest == item.dataset_digest)
            latest = _latest_metric(key, conditions, experiment_ids)
            query = query.outerjoin(latest, latest.c.model_id == _LM.model_id)
            column = latest.c.metric_value
        terms.append(case((column.is_(None), 1), else_=0).asc())
        terms.append(column.asc() if item.ascending else column.desc())
    if "creation_timestamp_ms" not in named:
        terms.append(_LM.creation_timestamp_ms.desc())
    if "model_id" not in named:
        terms.append(_LM.model_id.asc())
    return query, terms


def _clause(
    conn: Connection, clause: Clause, ds: list[ColumnElement[bool]], experiment_ids: list[int]
) -> ColumnElement[bool]:
    op, value = clause.op, clause.value
    if clause.entity == "attribute":
        column: KeyedColumnElement[Any] = ATTRIBUTE_COLUMNS[clause.key]
        if clause.key == "status":
            if op not in ("=", "!=", "IN", "NOT IN"):
                raise invalid_parameter(f"Invalid comparison operator for status: {op}")
            value = (
                tuple(status_from_filter(v) for v in value)  # type: ignore[union-attr]
                if isinstance(value, tuple)
                else status_from_filter(value)
            )
        return _compare(conn, column, op, value)
    if clause.entity == "metric":
        latest = _latest_metric(clause.key, ds, experiment_ids)
        return _LM.model_id.in_(
            select(latest.c.model_id).where(_compare(conn, latest.c.metric_value, op, value))
        )
    table, key_col, value_col = (
        (logged_model_params, _P.param_key, _P.param_value)
        if clause.entity == "param"
        else (logged_model_tags, _T.tag_key, _T.tag_value)
    )
    return exists().where(
        table.c.model_id == _LM.model_id, key_col == clause.key,
        _compare(conn, value_col, op, value),
    )
