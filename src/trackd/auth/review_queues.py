"""Who may do what with a review queue, as MLflow 3.18's basic-auth app decides it.

The experiment's permission is the base; on top of it a queue has an owner (``created_by``,
compared case-insensitively) and a pool of assigned reviewers (stored lower-cased):
- view (get, get-by-name, items/list): MANAGE, or a reviewer of the queue, or EDIT and owner;
- shape (update): MANAGE, or EDIT and owner; giving the queue a new owner is MANAGE only;
- prune (delete, items/remove): MANAGE, or EDIT and owner of a CUSTOM queue (a reviewer's own
  USER queue is the managers' to drop);
- add (items/add): EDIT;
- review (items/set-status): EDIT and a reviewer of the queue, managers included.
A READ-only caller listing queues sees only those they review (see ``filter_listed``).
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from trackd.auth import store as auth_store
from trackd.auth.permissions import Permission
from trackd.auth.service import AuthService
from trackd.errors import invalid_parameter
from trackd.store.database import Database

VIEW, SHAPE, PRUNE, ADD, REVIEW = "view", "shape", "prune", "add", "review"

_queues = sa.table("review_queues", sa.column("queue_id"), sa.column("experiment_id"),
                   sa.column("name_key"), sa.column("created_by"), sa.column("queue_type"))
_users = sa.table("review_queue_users", sa.column("queue_id"), sa.column("user_id"))


class QueueFacts:
    def __init__(self, experiment_id: str, owner: str | None, kind: str,
                 users: list[str]) -> None:
        self.experiment_id = experiment_id
        self.owner = (owner or "").strip().lower()
        self.kind = kind
        self.users = users


async def facts(db: Database, queue_id: str | None = None, *, experiment_id: str | None = None,
                name: str | None = None) -> QueueFacts | None:
    """The queue by id, or by experiment and name (as get-by-name finds it); None if absent."""
    if queue_id is not None:
        where = _queues.c.queue_id == queue_id
    elif experiment_id is not None and experiment_id.strip().isdigit() and name is not None:
        where = sa.and_(_queues.c.experiment_id == int(experiment_id),
                        _queues.c.name_key == name.lower())
    else:
        return None

    def work(conn: sa.Connection) -> QueueFacts | None:
        row = conn.execute(sa.select(_queues).where(where)).first()
        if row is None:
            return None
        users = list(conn.scalars(sa.select(_users.c.user_id)
                                  .where(_users.c.queue_id == row.queue_id)))
        return QueueFacts(str(row.experiment_id), row.created_by, row.queue_type, users)

    return await db.read(work)


def allows(mode: str, perm: Permission, queue: QueueFacts, username: str,
           fields: dict[str, Any]) -> bool:
    me = username.strip().lower()
    member = me in queue.users
    owner = bool(queue.owner) and queue.owner == me
    if not perm.can_read:
        return False
    if mode == VIEW:
        return perm.can_manage or member or (perm.can_update and owner)
    if mode == SHAPE:
        if fields.get("new_owner") is not None or fields.get("newOwner") is not None:
            return perm.can_manage
        return perm.can_manage or (perm.can_update and owner)
    if mode == PRUNE:
        return perm.can_manage or (perm.can_update and owner and queue.kind == "custom")
    if mode == ADD:
        return perm.can_update
    if mode == REVIEW:
        return perm.can_update and member
    return False


def filter_listed(perm: Permission, username: str, body: bytes) -> bytes:
    """EDIT (or more) lists every queue; READ lists the queues one reviews."""
    if perm.can_update:
        return body
    data = orjson.loads(body)
    me = username.strip().lower()
    kept = [q for q in data.get("review_queues") or []
            if perm.can_read and isinstance(q, dict) and me in (q.get("users") or [])]
    if kept:
        data["review_queues"] = kept
    else:
        data.pop("review_queues", None)
    return orjson.dumps(data)


async def refuse_username_as_name(auth: AuthService, fields: dict[str, Any], *,
                                  renaming: bool) -> None:
    """A CUSTOM queue named after a registered user would shadow that user's own USER queue:
    MLflow refuses it for everyone, admins included, once the caller is otherwise allowed."""
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        return
    if renaming:
        queue_id = fields.get("queue_id")
        queue = await facts(auth.lookups.db, queue_id) if isinstance(queue_id, str) else None
        if queue is None or queue.kind != "custom":
            return
    elif fields.get("queue_type") not in ("CUSTOM", 2):
        return
    wanted = name.strip().lower()
    users = await auth.db.read(auth_store.list_users)
    matched = next((u.username for u in users if u.username.strip().lower() == wanted), None)
    if matched is not None:
        action = "be renamed to a username" if renaming else "use a username as its name"
        raise invalid_parameter(f"'{matched}' is a registered user. A custom review queue "
                                f"cannot {action}; assign that user to a queue instead.")
