"""From a run, logged model or trace to the experiment whose grants decide who may touch it.

These ids never move between experiments, so each answer is remembered (bounded LRU): a busy
``log-metric`` stream costs one lookup per run, not one per call. Misses are not remembered,
because the id may be created a moment later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import sqlalchemy as sa

from trackd.store.database import Database

_runs = sa.table("runs", sa.column("run_uuid"), sa.column("experiment_id"))
_experiments = sa.table("experiments", sa.column("experiment_id"), sa.column("name"))
_logged_models = sa.table("logged_models", sa.column("model_id"), sa.column("experiment_id"))
_issues = sa.table("issues", sa.column("issue_id"), sa.column("experiment_id"))
_label_schemas = sa.table("label_schemas", sa.column("schema_id"), sa.column("experiment_id"))
_traces = sa.table("trace_info", sa.column("request_id"), sa.column("experiment_id"))
_scorers = sa.table("scorers", sa.column("scorer_id"), sa.column("experiment_id"))
_links = sa.table("entity_associations", sa.column("source_type"), sa.column("source_id"),
                  sa.column("destination_type"), sa.column("destination_id"))

_QUERIES = {
    "run": lambda key: sa.select(_runs.c.experiment_id).where(_runs.c.run_uuid == key),
    "logged_model": lambda key: sa.select(_logged_models.c.experiment_id)
    .where(_logged_models.c.model_id == key),
    "issue": lambda key: sa.select(_issues.c.experiment_id).where(_issues.c.issue_id == key),
    "label_schema": lambda key: sa.select(_label_schemas.c.experiment_id)
    .where(_label_schemas.c.schema_id == key),
    "trace": lambda key: sa.select(_traces.c.experiment_id).where(_traces.c.request_id == key),
    "scorer": lambda key: sa.select(_scorers.c.experiment_id).where(_scorers.c.scorer_id == key),
}


class ExperimentLookups:
    def __init__(self, db: Database, size: int = 50_000) -> None:
        self.db = db
        self._size = size
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    async def experiment_of(self, kind: str, key: str) -> str | None:
        """The experiment id of a run / logged_model / trace, or None when it does not exist."""
        with self._lock:
            hit = self._cache.get((kind, key))
            if hit is not None:
                self._cache.move_to_end((kind, key))
                return hit
        query = _QUERIES[kind](key)

        found = await self.db.read(lambda conn: conn.scalar(query))
        if found is None:
            return None
        value = str(found)
        with self._lock:
            self._cache[(kind, key)] = value
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return value

    async def dataset_experiments(self, dataset_id: str) -> list[str]:
        """The experiments an evaluation dataset is linked to (not cached: links change)."""
        query = sa.select(_links.c.destination_id).where(
            _links.c.source_type == "evaluation_dataset", _links.c.source_id == dataset_id,
            _links.c.destination_type == "experiment")
        return [str(i) for i in await self.db.read(lambda conn: list(conn.scalars(query)))]

    async def experiment_by_name(self, name: str) -> str | None:
        # Not cached: a name is freed when its experiment is deleted for good.
        query = sa.select(_experiments.c.experiment_id).where(_experiments.c.name == name)
        found = await self.db.read(lambda conn: conn.scalar(query))
        return None if found is None else str(found)
