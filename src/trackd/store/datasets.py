"""Evaluation datasets, their tags and experiment links (SQL only). Records are in
store/dataset_records.py; MLflow's semantics in service/datasets.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from trackd.entities.datasets import EvaluationDataset
from trackd.service.filters import Clause
from trackd.store.runs_search import SortPart, compare, order_terms
from trackd.store.tables import (
    entity_associations,
    evaluation_dataset_records,
    evaluation_dataset_tags,
    evaluation_datasets,
    experiments,
)

_D, _T, _E = evaluation_datasets.c, evaluation_dataset_tags.c, entity_associations.c
DATASET, EXPERIMENT = "evaluation_dataset", "experiment"  # entity_associations types
_COLUMNS = (_D.dataset_id, _D.name, _D.schema, _D.profile, _D.digest, _D.created_time,
            _D.last_update_time, _D.created_by, _D.last_updated_by)


def insert_dataset(conn: Connection, dataset: EvaluationDataset, experiment_ids: Sequence[str]
                   ) -> None:
    conn.execute(insert(evaluation_datasets).values(
        dataset_id=dataset.dataset_id, name=dataset.name, digest=dataset.digest,
        created_time=dataset.created_time, last_update_time=dataset.last_update_time,
        created_by=dataset.created_by, last_updated_by=dataset.last_updated_by))
    if dataset.tags:
        conn.execute(insert(evaluation_dataset_tags), [
            {"dataset_id": dataset.dataset_id, "key": k, "value": v}
            for k, v in dataset.tags.items()])
    link_experiments(conn, dataset.dataset_id, experiment_ids, dataset.created_time,
                     id_prefix="a-")


def _entities(conn: Connection, rows: Sequence[Any]) -> list[EvaluationDataset]:
    ids = [r.dataset_id for r in rows]
    tags: dict[str, dict[str, str | None]] = {i: {} for i in ids}
    if ids:
        for dataset_id, key, value in conn.execute(
                select(_T.dataset_id, _T.key, _T.value).where(_T.dataset_id.in_(ids))):
            tags[dataset_id][key] = value
    return [EvaluationDataset(
        dataset_id=r.dataset_id, name=r.name, digest=r.digest or "",
        created_time=int(r.created_time or 0), last_update_time=int(r.last_update_time or 0),
        tags=tags[r.dataset_id], schema=r.schema, profile=r.profile, created_by=r.created_by,
        last_updated_by=r.last_updated_by) for r in rows]


def get(conn: Connection, dataset_id: str) -> EvaluationDataset | None:
    rows = conn.execute(select(*_COLUMNS).where(_D.dataset_id == dataset_id)).all()
    found = _entities(conn, rows)
    return found[0] if found else None


def name_of(conn: Connection, dataset_id: str) -> str | None:
    return conn.scalar(select(_D.name).where(_D.dataset_id == dataset_id))


def schema_of(conn: Connection, dataset_id: str) -> str | None:
    return conn.scalar(select(_D.schema).where(_D.dataset_id == dataset_id))


def update_dataset(conn: Connection, dataset_id: str, **values: Any) -> None:
    conn.execute(update(evaluation_datasets).where(_D.dataset_id == dataset_id).values(**values))


def delete_dataset(conn: Connection, dataset_id: str) -> None:
    """The dataset, its records, tags and links (both directions, as MLflow deletes them)."""
    conn.execute(delete(entity_associations).where(or_(
        and_(_E.source_type == DATASET, _E.source_id == dataset_id),
        and_(_E.destination_type == DATASET, _E.destination_id == dataset_id))))
    conn.execute(delete(evaluation_dataset_records).where(
        evaluation_dataset_records.c.dataset_id == dataset_id))
    conn.execute(delete(evaluation_dataset_tags).where(_T.dataset_id == dataset_id))
    conn.execute(delete(evaluation_datasets).where(_D.dataset_id == dataset_id))


def set_tag(conn: Connection, dataset_id: str, key: str, value: str) -> None:
    found = conn.execute(update(evaluation_dataset_tags).where(
        _T.dataset_id == dataset_id, _T.key == key).values(value=value))
    if found.rowcount == 0:
        conn.execute(insert(evaluation_dataset_tags).values(dataset_id=dataset_id, key=key,
                                                            value=value))


def delete_tag(conn: Connection, dataset_id: str, key: str) -> None:
    conn.execute(delete(evaluation_dataset_tags).where(_T.dataset_id == dataset_id,
                                                       _T.key == key))


def experiment_ids(conn: Connection, dataset_id: str) -> list[str]:
    """The experiments a dataset is linked to, oldest link first."""
    return list(conn.scalars(select(_E.destination_id).where(
        _E.source_type == DATASET, _E.source_id == dataset_id, _E.destination_type == EXPERIMENT,
    ).order_by(_E.created_time, _E.destination_id)))


def existing_experiments(conn: Connection, ids: Sequence[int]) -> set[str]:
    if not ids:
        return set()
    found = conn.scalars(select(experiments.c.experiment_id)
                         .where(experiments.c.experiment_id.in_(list(ids))))
    return {str(i) for i in found}


def link_experiments(conn: Connection, dataset_id: str, ids: Sequence[str], now_ms: int,
                     id_prefix: str = "") -> None:
    """Links that exist already are kept. MLflow's create names links ``a-<hex>``, its
    add-experiments plain hex; both are kept so rows look the same as MLflow's."""
    if not ids:
        return
    linked = set(experiment_ids(conn, dataset_id))
    rows = [{"association_id": f"{id_prefix}{uuid.uuid4().hex}", "source_type": DATASET,
             "source_id": dataset_id, "destination_type": EXPERIMENT, "destination_id": i,
             "created_time": now_ms}
            for i in dict.fromkeys(ids) if i not in linked]
    if rows:
        conn.execute(insert(entity_associations), rows)


def unlink_experiments(conn: Connection, dataset_id: str, ids: Sequence[str]) -> int:
    if not ids:
        return 0
    return int(conn.execute(delete(entity_associations).where(
        _E.source_type == DATASET, _E.source_id == dataset_id, _E.destination_type == EXPERIMENT,
        _E.destination_id.in_(list(ids)))).rowcount)


_SORT = {"name": _D.name, "created_time": _D.created_time,
         "last_update_time": _D.last_update_time, "dataset_id": _D.dataset_id}
_FILTER_COLUMNS = {"name": _D.name, "created_time": _D.created_time,
                   "last_update_time": _D.last_update_time, "created_by": _D.created_by,
                   "last_updated_by": _D.last_updated_by}


def search(conn: Connection, experiment_ids: Sequence[str], clauses: Sequence[Clause],
           order: Sequence[tuple[str, bool]], offset: int, limit: int
           ) -> list[EvaluationDataset]:
    """One page of datasets; ``order`` as (column key, ascending), tie-breaker included."""
    dialect = conn.dialect.name
    query = select(*_COLUMNS)
    if experiment_ids:
        query = query.where(_D.dataset_id.in_(select(_E.source_id).where(
            _E.source_type == DATASET, _E.destination_type == EXPERIMENT,
            _E.destination_id.in_(list(experiment_ids)))))
    for clause in clauses:
        if clause.entity == "tag":
            query = query.where(_D.dataset_id.in_(select(_T.dataset_id).where(
                compare(_T.key, "=", clause.key, dialect),
                compare(_T.value, clause.op, clause.value, dialect))))
        else:
            query = query.where(compare(_FILTER_COLUMNS[clause.key], clause.op, clause.value,
                                        dialect))
    parts = [SortPart(_SORT[key], ascending, None if key in ("name", "dataset_id") else "last")
             for key, ascending in order]
    query = query.order_by(*order_terms(parts, dialect)).offset(offset).limit(limit)
    return _entities(conn, conn.execute(query).all())
