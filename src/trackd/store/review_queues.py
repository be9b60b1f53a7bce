"""The four review-queue tables (SQL only): ``review_queues`` (``name_key`` is the lower-cased
name MLflow keeps unique per experiment), ``review_queue_users``, ``review_queue_label_schemas``
and ``review_queue_items``. Child rows are deleted explicitly, as MLflow does, so nothing depends
on the database honouring ON DELETE CASCADE."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from trackd.entities.review_queues import ReviewItem, ReviewQueue


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


_queues = _table("review_queues", "queue_id", "experiment_id", "name", "queue_type",
                 "created_by", "creation_time_ms", "last_update_time_ms", "name_key")
_users = _table("review_queue_users", "queue_id", "user_id")
_schemas = _table("review_queue_label_schemas", "queue_id", "schema_id")
_items = _table("review_queue_items", "queue_id", "item_type", "item_id", "status",
                "completed_by", "completed_time_ms", "creation_time_ms", "last_update_time_ms")
_label_schemas = _table("label_schemas", "schema_id", "experiment_id")
_traces = _table("trace_info", "request_id", "experiment_id")
Q, IT = _queues.c, _items.c


def _members(conn: Connection, table: sa.TableClause, column: str,
             queue_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {q: [] for q in queue_ids}
    if queue_ids:
        col = table.c[column]
        query = sa.select(table.c.queue_id, col).where(
            table.c.queue_id.in_(queue_ids)).order_by(col.asc())
        for queue_id, member in conn.execute(query):
            found[queue_id].append(member)
    return found


def _hydrate(conn: Connection, rows: list[Any]) -> list[ReviewQueue]:
    """Queue rows plus their users and questions (sorted, as MLflow returns them)."""
    ids = [r.queue_id for r in rows]
    users = _members(conn, _users, "user_id", ids)
    schemas = _members(conn, _schemas, "schema_id", ids)
    return [ReviewQueue(
        queue_id=r.queue_id, experiment_id=int(r.experiment_id), name=r.name,
        queue_type=r.queue_type, created_ms=int(r.creation_time_ms),
        updated_ms=int(r.last_update_time_ms), created_by=r.created_by,
        users=users[r.queue_id], schema_ids=schemas[r.queue_id]) for r in rows]


def get(conn: Connection, queue_id: str, *, for_update: bool = False) -> ReviewQueue | None:
    query = sa.select(_queues).where(Q.queue_id == queue_id)
    if for_update:  # serialises "questions locked once items exist" against adding items
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _hydrate(conn, [row])[0]


def by_name_key(conn: Connection, experiment_id: int, name_key: str) -> ReviewQueue | None:
    row = conn.execute(sa.select(_queues).where(
        Q.experiment_id == experiment_id, Q.name_key == name_key)).first()
    return None if row is None else _hydrate(conn, [row])[0]


def page(conn: Connection, experiment_id: int, user: str | None, item_id: str | None,
         offset: int, limit: int) -> list[ReviewQueue]:
    """Newest first, queue id breaking ties, as MLflow lists them."""
    query = sa.select(_queues).where(Q.experiment_id == experiment_id)
    if user is not None:
        query = query.where(Q.queue_id.in_(
            sa.select(_users.c.queue_id).where(_users.c.user_id == user)))
    if item_id is not None:
        query = query.where(Q.queue_id.in_(sa.select(IT.queue_id).where(IT.item_id == item_id)))
    query = query.order_by(Q.creation_time_ms.desc(), Q.queue_id.asc()).offset(offset)
    return _hydrate(conn, list(conn.execute(query.limit(limit))))


def insert(conn: Connection, q: ReviewQueue) -> None:
    conn.execute(sa.insert(_queues).values(
        queue_id=q.queue_id, experiment_id=q.experiment_id, name=q.name,
        queue_type=q.queue_type, created_by=q.created_by, creation_time_ms=q.created_ms,
        last_update_time_ms=q.updated_ms, name_key=q.name.lower()))
    set_users(conn, q.queue_id, q.users)
    set_schema_ids(conn, q.queue_id, q.schema_ids)


def update(conn: Connection, q: ReviewQueue) -> None:
    conn.execute(sa.update(_queues).where(Q.queue_id == q.queue_id).values(
        name=q.name, name_key=q.name.lower(), created_by=q.created_by,
        last_update_time_ms=q.updated_ms))


def set_users(conn: Connection, queue_id: str, users: list[str]) -> None:
    conn.execute(sa.delete(_users).where(_users.c.queue_id == queue_id))
    if users:
        conn.execute(sa.insert(_users), [{"queue_id": queue_id, "user_id": u} for u in users])


def set_schema_ids(conn: Connection, queue_id: str, schema_ids: list[str]) -> None:
    conn.execute(sa.delete(_schemas).where(_schemas.c.queue_id == queue_id))
    if schema_ids:
        conn.execute(sa.insert(_schemas),
                     [{"queue_id": queue_id, "schema_id": s} for s in schema_ids])


def delete(conn: Connection, queue_id: str) -> None:
    for table in (_users, _items, _schemas, _queues):
        conn.execute(sa.delete(table).where(table.c.queue_id == queue_id))


def schema_ids_in_experiment(conn: Connection, experiment_id: int,
                             schema_ids: list[str]) -> set[str]:
    query = sa.select(_label_schemas.c.schema_id).where(
        _label_schemas.c.experiment_id == experiment_id,
        _label_schemas.c.schema_id.in_(schema_ids))
    return set(conn.scalars(query))


def traces_in_experiment(conn: Connection, experiment_id: int, trace_ids: list[str]) -> set[str]:
    query = sa.select(_traces.c.request_id).where(
        _traces.c.experiment_id == experiment_id, _traces.c.request_id.in_(trace_ids))
    return set(conn.scalars(query))


def _item(r: Any) -> ReviewItem:
    return ReviewItem(
        queue_id=r.queue_id, item_id=r.item_id, item_type=r.item_type, status=r.status,
        created_ms=int(r.creation_time_ms), updated_ms=int(r.last_update_time_ms),
        completed_by=r.completed_by,
        completed_ms=None if r.completed_time_ms is None else int(r.completed_time_ms))


def items(conn: Connection, queue_id: str, item_ids: Iterable[str]) -> dict[str, ReviewItem]:
    query = sa.select(_items).where(IT.queue_id == queue_id, IT.item_id.in_(list(item_ids)))
    return {r.item_id: _item(r) for r in conn.execute(query)}


def item_count(conn: Connection, queue_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(_items)
                           .where(IT.queue_id == queue_id)) or 0)


def insert_items(conn: Connection, rows: list[ReviewItem]) -> None:
    if rows:
        conn.execute(sa.insert(_items), [{
            "queue_id": r.queue_id, "item_type": r.item_type, "item_id": r.item_id,
            "status": r.status, "creation_time_ms": r.created_ms,
            "last_update_time_ms": r.updated_ms} for r in rows])


def update_item(conn: Connection, r: ReviewItem) -> None:
    conn.execute(sa.update(_items).where(IT.queue_id == r.queue_id, IT.item_id == r.item_id)
                 .values(status=r.status, completed_by=r.completed_by,
                         completed_time_ms=r.completed_ms, last_update_time_ms=r.updated_ms))


def remove_items(conn: Connection, queue_id: str, item_ids: list[str]) -> None:
    conn.execute(sa.delete(_items).where(IT.queue_id == queue_id, IT.item_id.in_(item_ids)))


def item_page(conn: Connection, queue_id: str, status: str | None, offset: int,
              limit: int) -> list[ReviewItem]:
    query = sa.select(_items).where(IT.queue_id == queue_id)
    if status is not None:
        query = query.where(IT.status == status)
    query = query.order_by(IT.creation_time_ms.desc(), IT.item_id.asc())
    return [_item(r) for r in conn.execute(query.offset(offset).limit(limit))]
