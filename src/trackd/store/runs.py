"""SQL for runs, their params and tags, and loading whole runs in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from trackd.entities.metrics import Metric, from_stored
from trackd.entities.runs import Dataset, DatasetInput, Run, RunInfo
from trackd.store.prepared import Prepared
from trackd.store.tables import (
    datasets,
    input_tags,
    inputs,
    latest_metrics,
    params,
    runs,
    tags,
)
from trackd.store.upsert import insert_ignore, upsert

_R = runs.c
_INFO_COLUMNS = (
    _R.run_uuid,
    _R.experiment_id,
    _R.name,
    _R.user_id,
    _R.status,
    _R.start_time,
    _R.end_time,
    _R.artifact_uri,
    _R.lifecycle_stage,
)


def get_info(conn: Connection, run_id: str) -> RunInfo | None:
    row = conn.execute(select(*_INFO_COLUMNS).where(_R.run_uuid == run_id)).first()
    return RunInfo(*row) if row is not None else None


def _build_run_state(_dialect: str) -> Any:
    return select(_R.lifecycle_stage, _R.experiment_id).where(_R.run_uuid == bindparam("run_id"))


_RUN_STATE = Prepared(_build_run_state)


def run_state(conn: Connection, run_id: str) -> tuple[str, int] | None:
    """(lifecycle_stage, experiment_id) of a run: the check every write to a run makes."""
    row = _RUN_STATE.one(conn, run_id=run_id)
    return (row[0], row[1]) if row is not None else None


# Loading a page of runs runs these six statements, built once: constructing them per call,
# with a hundred ids coerced one by one, cost more than running them. ``ids`` expands into an
# IN list; every result is fetched whole (row-by-row fetching was the other big cost).
_IDS: Any = bindparam("ids", expanding=True)
_m, _p, _t, _i, _d, _it = (latest_metrics.c, params.c, tags.c, inputs.c, datasets.c, input_tags.c)
_LOAD_INFO = select(*_INFO_COLUMNS).where(_R.run_uuid.in_(_IDS))
_LOAD_METRICS = (
    select(_m.run_uuid, _m.key, _m.value, _m.timestamp, _m.step, _m.is_nan)
    .where(_m.run_uuid.in_(_IDS))
    .order_by(_m.key)
)
_LOAD_PARAMS = select(_p.run_uuid, _p.key, _p.value).where(_p.run_uuid.in_(_IDS)).order_by(_p.key)
_LOAD_TAGS = select(_t.run_uuid, _t.key, _t.value).where(_t.run_uuid.in_(_IDS)).order_by(_t.key)
_LOAD_DATASETS = (
    select(
        _i.input_uuid,
        _i.destination_id,
        _d.name,
        _d.digest,
        _d.dataset_source_type,
        _d.dataset_source,
        _d.dataset_schema,
        _d.dataset_profile,
    )
    .join(datasets, _d.dataset_uuid == _i.source_id)
    .where(_i.destination_type == "RUN", _i.destination_id.in_(_IDS))
)
_LOAD_INPUT_TAGS = (
    select(_it.input_uuid, _it.name, _it.value).where(_it.input_uuid.in_(_IDS)).order_by(_it.name)
)
_LOAD_MODEL_LINKS = select(_i.source_type, _i.source_id, _i.destination_id, _i.step).where(
    _i.source_type.in_(("RUN_INPUT", "RUN_OUTPUT")), _i.source_id.in_(_IDS)
)


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Whole runs in the order of ``run_ids``: one query per child table, never per run."""
    if not run_ids:
        return []
    ids = list(run_ids)
    found = {row[0]: Run(RunInfo(*row)) for row in conn.execute(_LOAD_INFO, {"ids": ids}).all()}
    if not found:
        return []
    present = {"ids": list(found)}
    for run_id, key, value, ts, step, is_nan in conn.execute(_LOAD_METRICS, present).all():
        found[run_id].metrics.append(Metric(key, from_stored(value, is_nan), ts or 0, step))
    for run_id, key, value in conn.execute(_LOAD_PARAMS, present).all():
        found[run_id].params.append((key, value))
    for run_id, key, value in conn.execute(_LOAD_TAGS, present).all():
        found[run_id].tags.append((key, value))
    _load_io(conn, found, present)
    return [found[i] for i in ids if i in found]


def _load_io(conn: Connection, found: dict[str, Run], present: dict[str, list[str]]) -> None:
    """Dataset inputs, model inputs and model outputs, all kept in the ``inputs`` table."""
    dataset_inputs: dict[str, DatasetInput] = {}
    for input_uuid, run_id, name, digest, source_type, source, schema, profile in conn.execute(
        _LOAD_DATASETS, present
    ).all():
        entry = DatasetInput(Dataset(name, digest, source_type, source, schema, profile))
        dataset_inputs[input_uuid] = entry
        found[run_id].dataset_inputs.append(entry)
    if dataset_inputs:
        for input_uuid, name, value in conn.execute(
            _LOAD_INPUT_TAGS, {"ids": list(dataset_inputs)}
        ).all():
            dataset_inputs[input_uuid].tags.append((name, value))
    for source_type, run_id, model_id, step in conn.execute(_LOAD_MODEL_LINKS, present).all():
        if source_type == "RUN_INPUT":
            found[run_id].model_inputs.append(model_id)
        else:
            found[run_id].model_outputs.append((model_id, step or 0))


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
