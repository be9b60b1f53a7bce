"""Evaluation dataset records (SQL only): looked up by input hash, inserted, merged, paged.

The JSON columns go through SQLAlchemy's JSON type, as in MLflow: a Python None is written as
the JSON text ``null``, which is what MLflow leaves in a column it had no value for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from trackd.entities.datasets import WRAPPED_OUTPUT_KEY, DatasetRecord
from trackd.store.tables import evaluation_dataset_records

_R = evaluation_dataset_records.c
_READ = (_R.dataset_record_id, _R.dataset_id, _R.inputs, _R.outputs, _R.expectations, _R.tags,
         _R.source, _R.source_id, _R.created_time, _R.last_update_time, _R.created_by,
         _R.last_updated_by, _R.input_hash)


def _entity(r: Any) -> DatasetRecord:
    outputs = r.outputs.get(WRAPPED_OUTPUT_KEY) if isinstance(r.outputs, dict) else None
    return DatasetRecord(
        dataset_record_id=r.dataset_record_id, dataset_id=r.dataset_id, inputs=r.inputs,
        created_time=int(r.created_time or 0), last_update_time=int(r.last_update_time or 0),
        outputs=outputs, expectations=r.expectations, tags=r.tags,
        source=r.source if isinstance(r.source, dict) else None, source_id=r.source_id,
        created_by=r.created_by, last_updated_by=r.last_updated_by)


def by_hash(conn: Connection, dataset_id: str, hashes: Sequence[str]) -> dict[str, Any]:
    """Existing rows of a dataset keyed by input hash (raw rows: outputs still wrapped)."""
    if not hashes:
        return {}
    rows = conn.execute(select(*_READ).where(_R.dataset_id == dataset_id,
                                             _R.input_hash.in_(list(hashes))))
    return {r.input_hash: r for r in rows}


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(evaluation_dataset_records), rows)


def update_row(conn: Connection, record_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(evaluation_dataset_records)
                 .where(_R.dataset_record_id == record_id).values(**values))


def count(conn: Connection, dataset_id: str) -> int:
    return int(conn.scalar(select(func.count()).select_from(evaluation_dataset_records)
                           .where(_R.dataset_id == dataset_id)) or 0)


def page(conn: Connection, dataset_id: str, after: tuple[int, str] | None, offset: int,
         limit: int) -> list[DatasetRecord]:
    """Records in (created_time, dataset_record_id) order, after a cursor or an offset."""
    query = select(*_READ).where(_R.dataset_id == dataset_id)
    if after is not None:
        created, record_id = after
        query = query.where(or_(_R.created_time > created,
                                and_(_R.created_time == created,
                                     _R.dataset_record_id > record_id)))
    query = query.order_by(_R.created_time, _R.dataset_record_id).offset(offset).limit(limit)
    return [_entity(r) for r in conn.execute(query)]


def delete_ids(conn: Connection, dataset_id: str, record_ids: Sequence[str]) -> int:
    if not record_ids:
        return 0
    return int(conn.execute(delete(evaluation_dataset_records).where(
        _R.dataset_id == dataset_id, _R.dataset_record_id.in_(list(record_ids)))).rowcount)
