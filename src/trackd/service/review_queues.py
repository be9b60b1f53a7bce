"""Review queues (MLflow 3.18 ``mlflow.genai.review_queues``): queues, their traces and each
trace's review status, with MLflow's rules (service/review_queue_rules.py) and list paging."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Connection

from trackd.entities.review_queues import ReviewItem, ReviewQueue
from trackd.errors import already_exists, invalid_parameter, not_found
from trackd.service import review_queue_rules as rules
from trackd.service.label_schemas import mlflow_offset, mlflow_token
from trackd.service.validation import parse_experiment_id
from trackd.store import experiments as experiment_store
from trackd.store import review_queues as store
from trackd.store.database import Database

_DEFAULT_MAX_RESULTS = 1000
_MAX_RESULTS = 50000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _limit(max_results: int | None) -> int:
    limit = _DEFAULT_MAX_RESULTS if max_results is None else max_results
    if not 1 <= limit <= _MAX_RESULTS:
        raise invalid_parameter(f"max_results must be between 1 and {_MAX_RESULTS}. See the "
                                "API docs for more information about request parameters.")
    return limit


def _require_experiment(conn: Connection, experiment_id: int, raw: str) -> None:
    if experiment_store.experiment_state(conn, experiment_id) is None:
        raise not_found(f"No Experiment with id={raw} exists")


def _queue(conn: Connection, queue_id: str, *, for_update: bool = False) -> ReviewQueue:
    found = store.get(conn, queue_id, for_update=for_update)
    if found is None:
        raise not_found(f"Review queue with id '{queue_id}' not found.")
    return found


def _taken(name: str) -> Exception:
    return already_exists(
        f"Review queue with name '{name}' already exists (names are case-insensitive).")


def _check_schema_ids(conn: Connection, experiment_id: int, schema_ids: list[str]) -> None:
    # Queue questions are soft references (no foreign key): MLflow checks them here.
    if not schema_ids:
        return
    known = store.schema_ids_in_experiment(conn, experiment_id, schema_ids)
    if missing := [s for s in schema_ids if s not in known]:
        raise invalid_parameter(
            f"Label schema id(s) {missing} not found for experiment '{experiment_id}'.")


class ReviewQueueService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _create(self, conn: Connection, experiment_id: str, name: str, kind: str,
                users: list[str], schema_ids: list[str], created_by: str | None) -> ReviewQueue:
        name, users, schema_ids = rules.new_queue(kind, name, users, schema_ids)
        exp = parse_experiment_id(experiment_id)
        _require_experiment(conn, exp, experiment_id)
        _check_schema_ids(conn, exp, schema_ids)
        if store.by_name_key(conn, exp, name.lower()) is not None:
            raise _taken(name)
        now = _now_ms()
        queue = ReviewQueue(queue_id=f"rq-{uuid.uuid4().hex}", experiment_id=exp, name=name,
                            queue_type=kind, created_ms=now, updated_ms=now,
                            created_by=created_by, users=sorted(users),
                            schema_ids=sorted(schema_ids))
        store.insert(conn, queue)
        return queue

    async def create(self, experiment_id: str, name: str, queue_type: object,
                     users: list[str], schema_ids: list[str],
                     created_by: str | None) -> ReviewQueue:
        kind = rules.queue_type(queue_type)
        return await self.db.write(lambda conn: self._create(
            conn, experiment_id, name, kind, users, schema_ids, created_by))

    async def get_or_create_user_queue(self, experiment_id: str, user: str) -> ReviewQueue:
        name = rules.user(user)

        def work(conn: Connection) -> ReviewQueue:
            exp = parse_experiment_id(experiment_id)
            _require_experiment(conn, exp, experiment_id)
            existing = store.by_name_key(conn, exp, name.lower())
            if existing is None:  # a user queue is owned by its user
                return self._create(conn, experiment_id, name, "user", [], [], name)
            if existing.queue_type != "user":
                raise already_exists(f"A non-user queue named '{name}' already exists; cannot "
                                     "get-or-create a user queue with that name.")
            return existing

        return await self.db.write(work)

    async def get(self, queue_id: str) -> ReviewQueue:
        return await self.db.read(lambda conn: _queue(conn, queue_id))

    async def get_by_name(self, experiment_id: str, name: str) -> ReviewQueue:
        exp = parse_experiment_id(experiment_id)

        def work(conn: Connection) -> ReviewQueue | None:
            _require_experiment(conn, exp, experiment_id)
            return store.by_name_key(conn, exp, name.lower())

        found = await self.db.read(work)
        if found is None:
            raise not_found(f"Review queue with name '{name}' not found for experiment "
                            f"'{experiment_id}'.")
        return found

    async def list_queues(self, experiment_id: str, user: str | None, item_id: str | None,
                          max_results: int | None,
                          page_token: str | None) -> tuple[list[ReviewQueue], str | None]:
        limit = _limit(max_results)
        offset = mlflow_offset(page_token)
        exp = parse_experiment_id(experiment_id)
        wanted_user = None if user is None else rules.user(user)

        def work(conn: Connection) -> tuple[list[ReviewQueue], str | None]:
            _require_experiment(conn, exp, experiment_id)
            rows = store.page(conn, exp, wanted_user, item_id, offset, limit + 1)
            return rows[:limit], mlflow_token(offset + limit) if len(rows) > limit else None

        return await self.db.read(work)

    async def update(self, queue_id: str, users: list[str] | None,
                     schema_ids: list[str] | None, name: str | None,
                     new_owner: str | None) -> ReviewQueue:
        def work(conn: Connection) -> ReviewQueue:
            queue = _queue(conn, queue_id, for_update=True)
            if queue.queue_type == "user":
                raise invalid_parameter("A user queue's name, assigned user, schemas, and owner "
                                        "are fixed and cannot be updated.")
            if users is None and schema_ids is None and name is None and new_owner is None:
                return queue  # nothing asked: not even the update time moves
            if new_owner is not None:
                queue.created_by = rules.owner(new_owner)
            if name is not None:
                new_name = rules.custom_name(name)
                renamed = new_name.lower() != queue.name.lower()
                if renamed and store.by_name_key(conn, queue.experiment_id, new_name.lower()):
                    raise _taken(new_name)
                queue.name = new_name
            if users is not None:
                queue.users = sorted(rules.users(users))
                store.set_users(conn, queue_id, queue.users)
            if schema_ids is not None:
                # Questions freeze once work is assigned: answers must keep their question.
                if store.item_count(conn, queue_id) > 0:
                    raise invalid_parameter(
                        "A review queue's questions are locked once items are assigned to it. "
                        "Remove the items before changing its questions.")
                wanted = rules.schema_ids(schema_ids)
                _check_schema_ids(conn, queue.experiment_id, wanted)
                queue.schema_ids = sorted(wanted)
                store.set_schema_ids(conn, queue_id, queue.schema_ids)
            queue.updated_ms = _now_ms()
            store.update(conn, queue)
            return queue

        return await self.db.write(work)

    async def delete(self, queue_id: str) -> None:
        # Deleting a queue that is not there is a no-op, as in MLflow.
        await self.db.write(lambda conn: store.delete(conn, queue_id))

    async def add_items(self, queue_id: str, item_ids: list[str],
                        item_type: object) -> list[ReviewItem]:
        wanted = rules.item_ids(item_ids)
        kind = "trace"  # the only item type of 3.18; unknown values read as unset

        def work(conn: Connection) -> list[ReviewItem]:
            queue = _queue(conn, queue_id, for_update=True)
            # Items have no foreign key: a trace of another experiment would leak into it.
            known = store.traces_in_experiment(conn, queue.experiment_id, wanted)
            if invalid := [i for i in wanted if i not in known]:
                raise not_found(f"Cannot attach trace(s) {invalid} to review queue '{queue_id}': "
                                f"they do not exist in experiment '{queue.experiment_id}'.")
            present = store.items(conn, queue_id, wanted)
            now = _now_ms()
            new = [ReviewItem(queue_id=queue_id, item_id=i, item_type=kind, status="pending",
                              created_ms=now, updated_ms=now)
                   for i in wanted if i not in present]
            store.insert_items(conn, new)  # already there: kept with its status
            present.update({r.item_id: r for r in new})
            return [present[i] for i in wanted]

        return await self.db.write(work)

    async def remove_items(self, queue_id: str, item_ids: list[str]) -> None:
        wanted = rules.item_ids(item_ids)

        def work(conn: Connection) -> None:
            _queue(conn, queue_id)
            store.remove_items(conn, queue_id, wanted)

        await self.db.write(work)

    async def list_items(self, queue_id: str, status: object, max_results: int | None,
                         page_token: str | None) -> tuple[list[ReviewItem], str | None]:
        limit = _limit(max_results)
        offset = mlflow_offset(page_token)
        wanted = rules.optional_status(status)

        def work(conn: Connection) -> tuple[list[ReviewItem], str | None]:
            _queue(conn, queue_id)
            rows = store.item_page(conn, queue_id, wanted, offset, limit + 1)
            return rows[:limit], mlflow_token(offset + limit) if len(rows) > limit else None

        return await self.db.read(work)

    async def set_status(self, queue_id: str, item_id: str, status: object,
                         completed_by: str | None) -> ReviewItem:
        new_status = rules.status(status)
        who = rules.completed_by(new_status, completed_by)
        item_id = item_id.strip()

        def work(conn: Connection) -> ReviewItem:
            _queue(conn, queue_id)
            item = store.items(conn, queue_id, [item_id]).get(item_id)
            if item is None:
                raise not_found(
                    f"Item '{item_id}' is not attached to review queue '{queue_id}'.")
            # The same status again changes nothing: the first reviewer keeps the credit.
            if item.status == new_status:
                return item
            item.status, item.updated_ms = new_status, _now_ms()
            item.completed_by = who
            item.completed_ms = None if new_status == "pending" else item.updated_ms
            store.update_item(conn, item)
            return item

        return await self.db.write(work)
