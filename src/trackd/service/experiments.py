"""Experiments: MLflow's rules for creating, naming, deleting and tagging them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from trackd.entities.experiments import ACTIVE, DELETED, Experiment
from trackd.errors import INVALID_STATE, MlflowError, already_exists, invalid_parameter, not_found
from trackd.service import validation as v
from trackd.service.artifact_paths import experiment_location
from trackd.service.clock import now_ms
from trackd.service.search_query import parse_search
from trackd.store import experiments as store
from trackd.store.database import Database
from trackd.store.experiments_search import search_experiment_ids
from trackd.store.inputs import dataset_summaries

# MLflow's bound on one search-datasets request.
MAX_DATASET_SEARCH_EXPERIMENTS = 20

log = logging.getLogger("trackd.experiments")

DEFAULT_EXPERIMENT_ID = 0


def require_experiment(conn: Connection, experiment_id: int) -> Experiment:
    experiment = store.get_experiment(conn, experiment_id)
    if experiment is None:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    return experiment


def require_active_experiment(conn: Connection, experiment_id: int) -> Experiment:
    experiment = require_experiment(conn, experiment_id)
    _refuse_inactive(experiment_id, experiment.lifecycle_stage)
    return experiment


def check_active_experiment(conn: Connection, experiment_id: int) -> str | None:
    """The artifact location of an active experiment (the cheap check before a new run)."""
    state = store.experiment_state(conn, experiment_id)
    if state is None:
        raise not_found(f"No Experiment with id={experiment_id} exists")
    _refuse_inactive(experiment_id, state[0])
    return state[1]


def _refuse_inactive(experiment_id: int, lifecycle_stage: str) -> None:
    if lifecycle_stage != ACTIVE:
        raise invalid_parameter(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {lifecycle_stage}."
        )


def _check_tag(key: str, value: object) -> tuple[str, str]:
    v.check_key(key)
    text = v.check_tag_value(value)
    v.check_length("key", v.MAX_EXPERIMENT_TAG_KEY_LENGTH, key)
    v.check_length("value", v.MAX_EXPERIMENT_TAG_VALUE_LENGTH, text)
    return key, text


class ExperimentService:
    def __init__(self, db: Database, artifact_root: str,
                 check_location: Callable[[str], str] | None = None) -> None:
        self.db = db
        self.artifact_root = artifact_root
        # ArtifactRegistry.check_servable: a location the server could not serve is refused
        # when the experiment is created, not when its first run uploads.
        self.check_location = check_location

    def ensure_default_experiment(self) -> None:
        """Create experiment 0 on a database that has no experiment at all (MLflow's rule)."""

        def work(conn: Connection) -> None:
            if store.any_experiment_exists(conn):
                return
            location = experiment_location(self.artifact_root, DEFAULT_EXPERIMENT_ID)
            try:
                with conn.begin_nested():
                    store.insert_default_experiment(conn, location, now_ms())
            except IntegrityError:
                return  # another trackd starting on the same new database made it first
            log.info("created the Default experiment (id 0) at %s", location)

        self.db.write_sync(work)

    async def create(
        self, name: object, artifact_location: str | None, tags: list[tuple[str, object]]
    ) -> int:
        name = v.check_experiment_name(name)
        v.check_length("artifact_location", v.MAX_ARTIFACT_LOCATION_LENGTH, artifact_location)
        if artifact_location and self.check_location is not None:
            self.check_location(artifact_location)
        checked_tags = [_check_tag(k, value) for k, value in tags]

        def work(conn: Connection) -> int:
            if store.find_id_by_name(conn, name) is not None:
                raise already_exists(f"Experiment(name={name}) already exists.")
            try:
                with conn.begin_nested():
                    new_id = store.insert_experiment(
                        conn,
                        name=name,
                        artifact_location=artifact_location,
                        now=now_ms(),
                        tags=checked_tags,
                    )
            except IntegrityError as exc:
                raise already_exists(f"Experiment(name={name}) already exists.") from exc
            if not artifact_location:
                location = experiment_location(self.artifact_root, new_id)
                store.set_artifact_location(conn, new_id, location)
            return new_id

        return await self.db.write(work)

    async def get(self, experiment_id: int) -> Experiment:
        return await self.db.read(lambda conn: require_experiment(conn, experiment_id))

    async def get_by_name(self, name: str) -> Experiment:
        def work(conn: Connection) -> Experiment:
            found = store.find_id_by_name(conn, name)
            experiment = store.get_experiment(conn, found) if found is not None else None
            if experiment is None:
                raise not_found(f"Could not find experiment with name '{name}'")
            return experiment

        return await self.db.read(work)

    async def search(
        self,
        *,
        view_type: str,
        max_results: int | None,
        filter_string: str | None,
        order_by: list[str],
        page_token: str | None,
    ) -> tuple[list[Experiment], str | None]:
        query = parse_search("experiments", filter_string, order_by, max_results)

        def work(conn: Connection) -> tuple[list[Experiment], str | None]:
            ids, token = search_experiment_ids(
                conn, query.clauses, view_type, query.order_by, query.limit, page_token
            )
            return store.load_experiments(conn, ids), token

        return await self.db.read(work)

    async def dataset_summaries(self, experiment_ids: list[str]) -> list[dict[str, str]]:
        """The datasets the experiments' runs took as inputs (``search-datasets``)."""
        if not experiment_ids:
            raise invalid_parameter(
                "SearchDatasets request must specify at least one experiment_id.")
        if len(experiment_ids) > MAX_DATASET_SEARCH_EXPERIMENTS:
            raise invalid_parameter(
                f"SearchDatasets request cannot specify more than "
                f"{MAX_DATASET_SEARCH_EXPERIMENTS} experiment_ids. Received "
                f"{len(experiment_ids)} experiment_ids.")
        ids = [v.parse_experiment_id(i) for i in experiment_ids]
        return await self.db.read(lambda conn: dataset_summaries(conn, ids))

    async def rename(self, experiment_id: int, new_name: object) -> None:
        new_name = v.check_experiment_name(new_name)

        def work(conn: Connection) -> None:
            experiment = require_experiment(conn, experiment_id)
            if experiment.lifecycle_stage != ACTIVE:
                raise MlflowError("Cannot rename a non-active experiment.", INVALID_STATE)
            existing = store.find_id_by_name(conn, new_name)
            if existing is not None and existing != experiment_id:
                raise already_exists(f"Experiment(name={new_name}) already exists.")
            store.rename(conn, experiment_id, new_name, now_ms())

        await self.db.write(work)

    async def delete(self, experiment_id: int) -> None:
        def work(conn: Connection) -> None:
            experiment = require_experiment(conn, experiment_id)
            if experiment.lifecycle_stage != ACTIVE:
                raise not_found(f"No Experiment with id={experiment_id} exists")
            store.set_lifecycle(conn, experiment_id, DELETED, now_ms())

        await self.db.write(work)

    async def restore(self, experiment_id: int) -> None:
        def work(conn: Connection) -> None:
            experiment = require_experiment(conn, experiment_id)
            if experiment.lifecycle_stage != DELETED:
                raise not_found(f"No Experiment with id={experiment_id} exists")
            store.set_lifecycle(conn, experiment_id, ACTIVE, now_ms())

        await self.db.write(work)

    async def set_tag(self, experiment_id: int, key: str, value: object) -> None:
        key, text = _check_tag(key, value)

        def work(conn: Connection) -> None:
            require_active_experiment(conn, experiment_id)
            store.set_tag(conn, experiment_id, key, text)

        await self.db.write(work)

    async def delete_tag(self, experiment_id: int, key: str) -> None:
        def work(conn: Connection) -> None:
            require_active_experiment(conn, experiment_id)
            if not store.delete_tag(conn, experiment_id, key):
                raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")

        await self.db.write(work)
