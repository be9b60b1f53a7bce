"""The ``webhooks`` and ``webhook_events`` tables (SQL only).

MLflow soft-deletes a webhook (``deleted_timestamp``) and never reuses its id; a deleted row is
invisible to every query here, as it is to mlflow server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from trackd.entities.webhooks import Event, Webhook

DEFAULT_WORKSPACE = "default"

_w = sa.table(
    "webhooks",
    *(sa.column(c) for c in (
        "webhook_id", "name", "description", "url", "status", "secret", "creation_timestamp",
        "last_updated_timestamp", "deleted_timestamp", "workspace")),
)
_e = sa.table("webhook_events", sa.column("webhook_id"), sa.column("entity"),
              sa.column("action"))
_W, _E = _w.c, _e.c
_READ = (_W.webhook_id, _W.name, _W.description, _W.url, _W.status, _W.secret,
         _W.creation_timestamp, _W.last_updated_timestamp)
_LIVE = (_W.deleted_timestamp.is_(None), _W.workspace == DEFAULT_WORKSPACE)
# MLflow lists newest first; the id breaks ties between webhooks made in the same millisecond.
_ORDER = (_W.creation_timestamp.desc(), _W.webhook_id)


def insert(conn: Connection, row: dict[str, Any], events: Sequence[Event]) -> None:
    conn.execute(sa.insert(_w).values(workspace=DEFAULT_WORKSPACE, **row))
    _insert_events(conn, row["webhook_id"], events)


def _insert_events(conn: Connection, webhook_id: str, events: Sequence[Event]) -> None:
    conn.execute(sa.insert(_e), [
        {"webhook_id": webhook_id, "entity": entity, "action": action}
        for entity, action in events
    ])


def replace_events(conn: Connection, webhook_id: str, events: Sequence[Event]) -> None:
    conn.execute(sa.delete(_e).where(_E.webhook_id == webhook_id))
    _insert_events(conn, webhook_id, events)


def update(conn: Connection, webhook_id: str, values: dict[str, Any]) -> None:
    conn.execute(sa.update(_w).where(_W.webhook_id == webhook_id).values(**values))


def get(conn: Connection, webhook_id: str, *, lock: bool = False) -> Webhook | None:
    query = sa.select(*_READ).where(_W.webhook_id == webhook_id, *_LIVE)
    if lock and conn.dialect.name not in ("sqlite", "mssql"):
        query = query.with_for_update()
    rows = conn.execute(query).all()
    return _load(conn, rows)[0] if rows else None


def page(conn: Connection, offset: int, limit: int) -> list[Webhook]:
    query = sa.select(*_READ).where(*_LIVE).order_by(*_ORDER).offset(offset).limit(limit)
    return _load(conn, conn.execute(query).all())


def by_event(conn: Connection, event: Event) -> list[Webhook]:
    """Live ACTIVE webhooks subscribed to ``event``."""
    subscribed = sa.select(_E.webhook_id).where(_E.entity == event[0], _E.action == event[1])
    query = (sa.select(*_READ)
             .where(*_LIVE, _W.status == "ACTIVE", _W.webhook_id.in_(subscribed))
             .order_by(*_ORDER))
    return _load(conn, conn.execute(query).all())


def _load(conn: Connection, rows: Sequence[Any]) -> list[Webhook]:
    ids = [r.webhook_id for r in rows]
    events: dict[str, list[Event]] = {i: [] for i in ids}
    if ids:
        query = (sa.select(_E.webhook_id, _E.entity, _E.action)
                 .where(_E.webhook_id.in_(ids)).order_by(_E.entity, _E.action))
        for webhook_id, entity, action in conn.execute(query):
            events[webhook_id].append((entity, action))
    return [
        Webhook(webhook_id=r.webhook_id, name=r.name, url=r.url, events=events[r.webhook_id],
                status=r.status, creation_timestamp=r.creation_timestamp,
                last_updated_timestamp=r.last_updated_timestamp, description=r.description,
                encrypted_secret=r.secret)
        for r in rows
    ]


_rm_tags = sa.table("registered_model_tags", sa.column("name"), sa.column("key"),
                    sa.column("value"), sa.column("workspace"))


def model_is_prompt(conn: Connection, name: str) -> bool:
    """Whether a registered model is a prompt: it picks the prompt events over the model ones."""
    t = _rm_tags.c
    value = conn.execute(sa.select(t.value).where(
        t.workspace == DEFAULT_WORKSPACE, t.name == name, t.key == "mlflow.prompt.is_prompt"
    )).scalar()
    return isinstance(value, str) and value.lower() == "true"
