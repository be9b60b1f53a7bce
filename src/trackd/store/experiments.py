"""SQL for experiments and their tags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trackd.entities.experiments import ACTIVE, DEFAULT_WORKSPACE, DELETED, Experiment
from trackd.store.prepared import Prepared
from trackd.store.tables import experiment_tags, experiments, runs

_E = experiments.c
_COLUMNS = (
    _E.experiment_id,
    _E.name,
    _E.artifact_location,
    _E.lifecycle_stage,
    _E.creation_time,
    _E.last_update_time,
)


def _record(row: Row, tags: list[tuple[str, str | None]]) -> Experiment:
    return Experiment(*row, tags=tags)  # type: ignore[arg-type,misc]


def load_experiments(conn: Connection, ids: Sequence[int]) -> list[Experiment]:
    """Experiments with their tags, in the order of ``ids`` (missing ids are skipped)."""
    if not ids:
        return []
    rows = {row[0]: row for row in conn.execute(select(*_COLUMNS).where(_E.experiment_id.in_(ids)))}
    tags: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    tag_rows = conn.execute(
        select(experiment_tags.c.experiment_id, experiment_tags.c.key, experiment_tags.c.value)
        .where(experiment_tags.c.experiment_id.in_(list(rows)))
        .order_by(experiment_tags.c.key)
    )
    for experiment_id, key, value in tag_rows:
        tags[experiment_id].append((key, value))
    return [_record(rows[i], tags[i]) for i in ids if i in rows]


def get_experiment(conn: Connection, experiment_id: int) -> Experiment | None:
    found = load_experiments(conn, [experiment_id])
    return found[0] if found else None


_STATE = Prepared(
    lambda _dialect: select(_E.lifecycle_stage, _E.artifact_location).where(
        _E.experiment_id == bindparam("experiment_id")
    )
)


def experiment_state(conn: Connection, experiment_id: int) -> tuple[str, str | None] | None:
    """(lifecycle_stage, artifact_location): what creating a run needs to know."""
    row = _STATE.one(conn, experiment_id=experiment_id)
    return (row[0], row[1]) if row is not None else None


def find_id_by_name(conn: Connection, name: str) -> int | None:
    return conn.execute(
        select(_E.experiment_id).where(_E.workspace == DEFAULT_WORKSPACE, _E.name == name)
    ).scalar()


def any_experiment_exists(conn: Connection) -> bool:
    return conn.execute(select(_E.experiment_id).limit(1)).first() is not None


def insert_experiment(
    conn: Connection,
    *,
    name: str,
    artifact_location: str | None,
    now: int,
    tags: Sequence[tuple[str, str]],
    experiment_id: int | None = None,
) -> int:
    """Insert and return the new id. Raises IntegrityError on a duplicate name."""
    values = {
        "name": name,
        "artifact_location": artifact_location or "",
        "lifecycle_stage": ACTIVE,
        "creation_time": now,
        "last_update_time": now,
        "workspace": DEFAULT_WORKSPACE,
    }
    if experiment_id is not None:
        values["experiment_id"] = experiment_id
    result = conn.execute(insert(experiments).values(values))
    new_id = experiment_id if experiment_id is not None else result.inserted_primary_key[0]  # type: ignore[index]
    if tags:
        conn.execute(
            insert(experiment_tags),
            [{"experiment_id": new_id, "key": k, "value": v} for k, v in tags],
        )
    return int(new_id)


def set_artifact_location(conn: Connection, experiment_id: int, location: str) -> None:
    conn.execute(
        update(experiments)
        .where(_E.experiment_id == experiment_id)
        .values(artifact_location=location)
    )


def rename(conn: Connection, experiment_id: int, new_name: str, now: int) -> None:
    conn.execute(
        update(experiments)
        .where(_E.experiment_id == experiment_id)
        .values(name=new_name, last_update_time=now)
    )


def set_lifecycle(conn: Connection, experiment_id: int, stage: str, now: int) -> None:
    """Soft delete or restore an experiment together with its runs, as MLflow does."""
    conn.execute(
        update(experiments)
        .where(_E.experiment_id == experiment_id)
        .values(lifecycle_stage=stage, last_update_time=now)
    )
    conn.execute(
        update(runs)
        .where(runs.c.experiment_id == experiment_id)
        .values(lifecycle_stage=stage, deleted_time=now if stage == DELETED else None)
    )


def set_tag(conn: Connection, experiment_id: int, key: str, value: str) -> None:
    t = experiment_tags.c
    changed = conn.execute(
        update(experiment_tags)
        .where(t.experiment_id == experiment_id, t.key == key)
        .values(value=value)
    ).rowcount
    if not changed:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(experiment_tags).values(
                        experiment_id=experiment_id, key=key, value=value
                    )
                )
        except IntegrityError:
            # Another writer inserted the same key between our update and insert: last wins.
            conn.execute(
                update(experiment_tags)
                .where(t.experiment_id == experiment_id, t.key == key)
                .values(value=value)
            )


def delete_tag(conn: Connection, experiment_id: int, key: str) -> int:
    t = experiment_tags.c
    return conn.execute(
        delete(experiment_tags).where(t.experiment_id == experiment_id, t.key == key)
    ).rowcount


def insert_default_experiment(conn: Connection, artifact_location: str, now: int) -> None:
    """Experiment 0, 'Default', which MLflow's clients and UI expect to exist.

    0 is an unusual value for an auto-increment key: MySQL reads it as "next id" and SQL
    Server refuses explicit ids, unless told otherwise for this one statement.
    """
    dialect = conn.dialect.name
    if dialect in ("mysql", "mariadb"):
        conn.exec_driver_sql(
            "SET @@SESSION.sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
        )
    elif dialect == "mssql":
        conn.exec_driver_sql("SET IDENTITY_INSERT experiments ON")
    try:
        insert_experiment(
            conn,
            name="Default",
            artifact_location=artifact_location,
            now=now,
            tags=(),
            experiment_id=0,
        )
    finally:
        if dialect == "mssql":
            conn.exec_driver_sql("SET IDENTITY_INSERT experiments OFF")
