"""Evaluation datasets (MLflow 3 GenAI): MLflow 3.18's rules for creating, reading, searching,
tagging and linking them to experiments. Records are in service/dataset_records.py.

What MLflow's store does and trackd does the same: names need not be unique (two ``create``
calls with one name make two datasets; ``get_dataset(name=...)`` then refuses on the client);
the experiments named at creation are linked without being looked up; deleting a dataset or a
tag that is not there succeeds; the digest is the first 8 hex digits of SHA-256 of
``"<name>:<last_update_time>"``, renewed whenever records change.
What trackd refuses where MLflow fails inside (a 500 or a database error): tags that are not a
JSON object, names, keys and values longer than their columns.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from trackd.entities.datasets import USER_TAG, EvaluationDataset
from trackd.errors import invalid_parameter, not_found
from trackd.service.clock import now_ms
from trackd.service.filters import parse_filter
from trackd.service.order_by import check_key_count, split_entry
from trackd.service.paging import check_max_results, fingerprint, offset_token, read_offset
from trackd.store import datasets as store
from trackd.store.database import Database

MAX_NAME, MAX_KEY, MAX_VALUE = 255, 255, 5000  # the columns' widths
_ORDER_KEYS = ("name", "created_time", "last_update_time")


def digest(name: str, last_update_time: int) -> str:
    return hashlib.sha256(f"{name}:{last_update_time}".encode()).hexdigest()[:8]


def tag_text(value: Any) -> str:
    """A tag value as MLflow stores it: Python's ``str()`` of whatever JSON value was sent."""
    return value if isinstance(value, str) else str(value)


def parse_tags(raw: Any, *, required: bool) -> dict[str, Any]:
    """The ``tags`` field: a JSON object *as text* (MLflow's proto field is a string)."""
    if raw is None or raw == "":
        if required:
            raise invalid_parameter("Missing value for required parameter 'tags'. See the API "
                                    "docs for more information about request parameters.")
        return {}
    if not isinstance(raw, str):
        raise invalid_parameter(f"Invalid value {raw!r} for parameter 'tags' supplied: expected "
                                "a JSON object encoded as a string")
    try:
        tags = json.loads(raw)
    except ValueError:
        raise invalid_parameter("Invalid value for parameter 'tags': not valid JSON") from None
    if not isinstance(tags, dict):
        raise invalid_parameter("Invalid value for parameter 'tags': expected a JSON object")
    for key, value in tags.items():
        if not key or len(key) > MAX_KEY:
            raise invalid_parameter(f"Invalid tag key {key!r}: 1 to {MAX_KEY} characters")
        if value is not None and len(tag_text(value)) > MAX_VALUE:
            raise invalid_parameter(f"Tag '{key}' has a value longer than {MAX_VALUE} "
                                    "characters")
    return tags


def experiment_numbers(ids: Sequence[str]) -> list[int]:
    numbers = []
    for raw in ids:
        try:
            numbers.append(int(raw))
        except ValueError:
            raise not_found(f"No Experiment with id={raw}") from None
    return numbers


def parse_order(order_by: Sequence[str]) -> list[tuple[str, bool]]:
    """MLflow's dataset order_by: bare attribute keys only, then ``dataset_id`` descending."""
    check_key_count(order_by)
    order: list[tuple[str, bool]] = []
    for entry in order_by or ["created_time DESC"]:
        ident, ascending = split_entry(entry)
        prefix, dot, key = ident.partition(".")
        if dot:
            if prefix == "tags":
                raise invalid_parameter("Invalid order_by entity: tag")
            raise invalid_parameter(f"Invalid identifier token '{prefix}' specified")
        if ident not in _ORDER_KEYS:
            raise invalid_parameter(f"Invalid attribute key '{ident}' specified. Valid keys "
                                    f"are: {set(_ORDER_KEYS)}")
        order.append((ident, ascending))
    return [*order, ("dataset_id", False)]


def require(conn: Connection, dataset_id: str) -> EvaluationDataset:
    found = store.get(conn, dataset_id)
    if found is None:
        raise not_found(f"Evaluation dataset with id '{dataset_id}' not found")
    return found


class DatasetService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, name: str, experiment_ids: list[str], raw_tags: Any
                     ) -> EvaluationDataset:
        if len(name) > MAX_NAME:
            raise invalid_parameter(f"Dataset name may be at most {MAX_NAME} characters")
        tags = parse_tags(raw_tags, required=False)
        now = now_ms()
        user = tags.get(USER_TAG)
        dataset = EvaluationDataset(
            dataset_id=f"d-{uuid.uuid4().hex}", name=name, digest=digest(name, now),
            created_time=now, last_update_time=now,
            tags={k: None if v is None else tag_text(v) for k, v in tags.items()},
            created_by=user, last_updated_by=user, experiment_ids=list(experiment_ids))

        def work(conn: Connection) -> EvaluationDataset:
            store.insert_dataset(conn, dataset, [str(i) for i in experiment_ids])
            return dataset

        return await self.db.write(work)

    async def get(self, dataset_id: str) -> EvaluationDataset:
        return await self.db.read(lambda conn: require(conn, dataset_id))

    async def delete(self, dataset_id: str) -> None:
        await self.db.write(lambda conn: store.delete_dataset(conn, dataset_id))

    async def search(self, experiment_ids: list[str], filter_string: str | None,
                     max_results: int | None, order_by: list[str], page_token: str | None
                     ) -> tuple[list[EvaluationDataset], str | None]:
        limit = check_max_results("evaluation_datasets", max_results)
        clauses = parse_filter("evaluation_datasets", filter_string)
        order = parse_order(order_by)
        query = fingerprint("evaluation_datasets", sorted(experiment_ids), list(clauses), order)
        offset = read_offset(page_token, query)
        found = await self.db.read(lambda conn: store.search(
            conn, experiment_ids, clauses, order, offset, limit + 1))
        if len(found) <= limit:
            return found, None
        return found[:limit], offset_token(query, offset + limit)

    async def set_tags(self, dataset_id: str, raw_tags: Any) -> None:
        tags = parse_tags(raw_tags, required=True)

        def work(conn: Connection) -> None:
            if store.name_of(conn, dataset_id) is None:
                raise not_found(f"Could not find evaluation dataset with ID {dataset_id}")
            for key, value in tags.items():
                if value is not None:  # MLflow skips null values
                    store.set_tag(conn, dataset_id, key, tag_text(value))

        await self.db.write(work)

    async def delete_tag(self, dataset_id: str, key: str) -> None:
        await self.db.write(lambda conn: store.delete_tag(conn, dataset_id, key))

    async def experiment_ids(self, dataset_id: str) -> list[str]:
        return await self.db.read(lambda conn: store.experiment_ids(conn, dataset_id))

    async def add_experiments(self, dataset_id: str, experiment_ids: list[str]
                              ) -> EvaluationDataset:
        def work(conn: Connection) -> EvaluationDataset:
            self._require_for_links(conn, dataset_id)
            found = store.existing_experiments(conn, experiment_numbers(experiment_ids))
            for raw in experiment_ids:
                if raw not in found:
                    raise not_found(f"No Experiment with id={raw}")
            now = now_ms()
            store.link_experiments(conn, dataset_id, experiment_ids, now)
            store.update_dataset(conn, dataset_id, last_update_time=now)
            return require(conn, dataset_id)

        return await self.db.write(work)

    async def remove_experiments(self, dataset_id: str, experiment_ids: list[str]
                                 ) -> EvaluationDataset:
        def work(conn: Connection) -> EvaluationDataset:
            self._require_for_links(conn, dataset_id)
            if store.unlink_experiments(conn, dataset_id, experiment_ids):
                store.update_dataset(conn, dataset_id, last_update_time=now_ms())
            return require(conn, dataset_id)

        return await self.db.write(work)

    @staticmethod
    def _require_for_links(conn: Connection, dataset_id: str) -> None:
        if store.name_of(conn, dataset_id) is None:
            raise not_found(f"Dataset '{dataset_id}' not found")
