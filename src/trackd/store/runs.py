"""SQL for runs, their params and tags (loading whole runs: :mod:`trackd.store.runs_load`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update

from trackd.entities.runs import RunInfo
from trackd.store.prepared import Prepared
from trackd.store.runs_load import INFO_COLUMNS
from trackd.store.tables import (
    inputs,
    params,
    runs,
    tags,
)
from trackd.store.upsert import insert_ignore, upsert

_R = runs.c


def get_info(conn: Connection, run_id: str) -> RunInfo | None:
    row = conn.execute(select(*INFO_COLUMNS).where(_R.run_uuid == run_id)).first()
    return RunInfo(*row) if row is not None else None


def _build_run_state(_dialect: str) -> Any:
    return select(_R.lifecycle_stage, _R.experiment_id).where(_R.run_uuid == bindparam("run_id"))


_RUN_STATE = Prepared(_build_run_state)


def run_state(conn: Connection, run_id: str) -> tuple[str, int] | None:
    """(lifecycle_stage, experiment_id) of a run: the check every write to a run makes."""
    row = _RUN_STATE.one(conn, run_id=run_id)
    return (row[0], row[1]) if row is not None else None


_NEW_RUN_COLUMNS = (
    "run_uuid",
    "name",
    "source_type",
    "source_name",
    "entry_point_name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "source_version",
    "lifecycle_stage",
    "artifact_uri",
    "experiment_id",
    "deleted_time",
)
_PG_TYPES = {
    "start_time": "BIGINT",
    "end_time": "BIGINT",
    "deleted_time": "BIGINT",
    "experiment_id": "INTEGER",
}
_INSERT_RUN = Prepared(
    lambda _dialect: insert(runs).values({c: bindparam(c) for c in _NEW_RUN_COLUMNS})
)
_INSERT_TAG = Prepared(
    lambda _dialect: insert(tags).values({c: bindparam(c) for c in ("run_uuid", "key", "value")})
)


def insert_run(
    conn: Connection, values: dict[str, Any], run_tags: Sequence[tuple[str, str]]
) -> None:
    """A new run (``values`` holds every column of ``_NEW_RUN_COLUMNS``) and its tags."""
    _INSERT_RUN.run(conn, [values])
    if run_tags:
        _INSERT_TAG.run(
            conn, [{"run_uuid": values["run_uuid"], "key": k, "value": v} for k, v in run_tags]
        )


# Experiment id -> (artifact location,), learnt by the service when it creates a run the long
# way: on PostgreSQL the next run of that experiment goes through insert_run_checked, which
# compares the location, so a stale entry only sends that run the long way. Bounded, as
# experiments can be many.
_LOCATIONS: dict[int, tuple[str | None]] = {}


def remember_location(experiment_id: int, location: str | None) -> None:
    if len(_LOCATIONS) >= 4096:
        _LOCATIONS.clear()
    _LOCATIONS[experiment_id] = (location,)


def known_location(experiment_id: int) -> tuple[str | None] | None:
    return _LOCATIONS.get(experiment_id)


# PostgreSQL: the experiment check, the run and its tags in one statement. The run's artifact
# URI is built in Python from the experiment's location, so the caller passes the location it
# expects (learnt from an earlier run of the same experiment) and the run is written only if the
# experiment is active and still has that location; otherwise nothing is written and the caller
# takes the long way (experiment check, then insert_run).
_PG_INSERT_RUN_CHECKED = Prepared(
    lambda _dialect: text(
        "WITH e AS (SELECT 1 FROM experiments WHERE experiment_id = :experiment_id "
        "AND lifecycle_stage = 'active' "
        "AND artifact_location IS NOT DISTINCT FROM CAST(:location AS VARCHAR)), "
        "r AS (INSERT INTO runs (" + ", ".join(_NEW_RUN_COLUMNS) + ") SELECT "
        + ", ".join(f"CAST(:{c} AS {_PG_TYPES.get(c, 'VARCHAR')})" for c in _NEW_RUN_COLUMNS)
        + " FROM e RETURNING run_uuid), "
        "t AS (INSERT INTO tags (run_uuid, key, value) SELECT r.run_uuid, x.key, x.value "
        "FROM r, unnest(CAST(:tag_keys AS VARCHAR[]), CAST(:tag_values AS VARCHAR[])) "
        "AS x(key, value)) "
        "SELECT count(*) FROM r"
    )
)


def insert_run_checked(
    conn: Connection, values: dict[str, Any], run_tags: Sequence[tuple[str, str]], location: Any
) -> bool:
    """PostgreSQL only: :func:`insert_run` if experiment ``values["experiment_id"]`` is active
    with artifact location ``location``; False (nothing written) otherwise."""
    row = _PG_INSERT_RUN_CHECKED.one(
        conn,
        location=location,
        tag_keys=[k for k, _ in run_tags],
        tag_values=[v for _, v in run_tags],
        **values,
    )
    return bool(row[0])


def update_info(conn: Connection, run_id: str, values: dict[str, Any]) -> None:
    if values:
        conn.execute(update(runs).where(_R.run_uuid == run_id).values(values))


def set_lifecycle(conn: Connection, run_id: str, stage: str, deleted_time: int | None) -> None:
    conn.execute(
        update(runs)
        .where(_R.run_uuid == run_id)
        .values(lifecycle_stage=stage, deleted_time=deleted_time)
    )


def set_tags(conn: Connection, run_id: str, items: Sequence[tuple[str, str]]) -> None:
    upsert(conn, tags, [{"run_uuid": run_id, "key": k, "value": v} for k, v in items], ["value"])


def get_tag(conn: Connection, run_id: str, key: str) -> str | None:
    t = tags.c
    return conn.execute(select(t.value).where(t.run_uuid == run_id, t.key == key)).scalar()


def delete_tag(conn: Connection, run_id: str, key: str) -> int:
    t = tags.c
    return conn.execute(delete(tags).where(t.run_uuid == run_id, t.key == key)).rowcount


def existing_params(
    conn: Connection, run_id: str, keys: Sequence[str], *, lock: bool = False
) -> dict[str, str]:
    """``lock``: a locking read, which sees rows other transactions committed after this one
    began (MySQL's REPEATABLE READ would otherwise hide them)."""
    p = params.c
    query = select(p.key, p.value).where(p.run_uuid == run_id, p.key.in_(list(keys)))
    rows = conn.execute(query.with_for_update() if lock else query)
    return {key: value for key, value in rows}


def insert_params(conn: Connection, run_id: str, items: Sequence[tuple[str, str]]) -> None:
    insert_ignore(conn, params, [{"run_uuid": run_id, "key": k, "value": v} for k, v in items])


def add_model_outputs(
    conn: Connection, run_id: str, outputs: Sequence[tuple[str, int]], new_uuid: Any
) -> None:
    insert_ignore(
        conn,
        inputs,
        [
            {
                "input_uuid": new_uuid(),
                "source_type": "RUN_OUTPUT",
                "source_id": run_id,
                "destination_type": "MODEL_OUTPUT",
                "destination_id": model_id,
                "step": step,
            }
            for model_id, step in outputs
        ],
    )


def experiment_of(conn: Connection, run_id: str) -> int | None:
    return conn.execute(select(_R.experiment_id).where(_R.run_uuid == run_id)).scalar()
