"""SQL for model versions and their tags, plus the logged-model facts registration needs.

A deleted version stays in ``model_versions`` with ``current_stage = 'Deleted_Internal'`` and
its fields redacted, exactly as MLflow leaves it, so that its number is never reused and a
database shared with ``mlflow server`` looks the same to both; every read here skips it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    delete,
    desc,
    exists,
    insert,
    not_,
    select,
    update,
)

from trackd.entities.registry import (
    IS_PROMPT_TAG,
    STAGE_ARCHIVED,
    STAGE_DELETED_INTERNAL,
    ModelVersion,
)
from trackd.service.filters import Clause
from trackd.store.runs_search import compare
from trackd.store.tables import (
    logged_model_tags,
    logged_models,
    model_version_tags,
    model_versions,
    registered_model_aliases,
)
from trackd.store.upsert import upsert

WORKSPACE = "default"
MODEL_VERSIONS_TAG = "mlflow.modelVersions"

_MV = model_versions.c
_MVT = model_version_tags.c
_AL = registered_model_aliases.c

COLUMNS = (
    _MV.name,
    _MV.version,
    _MV.creation_time,
    _MV.last_updated_time,
    _MV.description,
    _MV.user_id,
    _MV.current_stage,
    _MV.source,
    _MV.run_id,
    _MV.status,
    _MV.status_message,
    _MV.run_link,
    _MV.storage_location,
)


def live() -> list[ColumnElement[bool]]:
    """The conditions every read of versions carries: our workspace, not deleted."""
    return [_MV.workspace == WORKSPACE, _MV.current_stage != STAGE_DELETED_INTERNAL]


def _one(name: str, version: int) -> list[ColumnElement[bool]]:
    return [*live(), _MV.name == name, _MV.version == version]


def from_row(row: Any) -> ModelVersion:
    return ModelVersion(*row)


def get(conn: Connection, name: str, version: int, *, aliases: bool = True) -> ModelVersion | None:
    row = conn.execute(select(*COLUMNS).where(*_one(name, version))).first()
    if row is None:
        return None
    mv = from_row(row)
    _attach_tags(conn, {(mv.name, mv.version): mv})
    if aliases:
        mv.aliases = aliases_of(conn, name, version)
    return mv


def load_versions(conn: Connection, keys: Sequence[tuple[str, int]]) -> list[ModelVersion]:
    """Versions (with tags, without aliases) in the order of ``keys``."""
    if not keys:
        return []
    names = sorted({n for n, _ in keys})
    wanted = set(keys)
    found: dict[tuple[str, int], ModelVersion] = {}
    for row in conn.execute(
        select(*COLUMNS).where(*live(), _MV.name.in_(names), _MV.version.in_(
            sorted({v for _, v in keys})
        ))
    ):
        if (row.name, row.version) in wanted:
            found[(row.name, row.version)] = from_row(row)
    _attach_tags(conn, found)
    return [found[k] for k in keys if k in found]


def _attach_tags(conn: Connection, found: dict[tuple[str, int], ModelVersion]) -> None:
    if not found:
        return
    names = sorted({n for n, _ in found})
    for name, version, key, value in conn.execute(
        select(_MVT.name, _MVT.version, _MVT.key, _MVT.value)
        .where(
            _MVT.workspace == WORKSPACE,
            _MVT.name.in_(names),
            _MVT.version.in_(sorted({v for _, v in found})),
        )
        .order_by(_MVT.key)
    ):
        mv = found.get((name, version))
        if mv is not None:
            mv.tags.append((key, value))


def aliases_of(conn: Connection, name: str, version: int) -> list[str]:
    return list(
        conn.execute(
            select(_AL.alias)
            .where(_AL.workspace == WORKSPACE, _AL.name == name, _AL.version == version)
            .order_by(_AL.alias)
        ).scalars()
    )


def next_version(conn: Connection, name: str) -> int:
    """One past the highest number ever used, deleted versions included (never reused).

    The caller holds the registered model's row lock, so this locking read sees every
    committed version and no concurrent create can pick the same number.
    """
    top = conn.execute(
        select(_MV.version)
        .where(_MV.workspace == WORKSPACE, _MV.name == name)
        .order_by(desc(_MV.version))
        .limit(1)
        .with_for_update()
    ).scalar()
    return (top or 0) + 1


def insert_version(
    conn: Connection, values: dict[str, Any], tags: Sequence[tuple[str, str]]
) -> None:
    conn.execute(insert(model_versions).values(workspace=WORKSPACE, **values))
    if tags:
        conn.execute(
            insert(model_version_tags),
            [
                {
                    "workspace": WORKSPACE,
                    "name": values["name"],
                    "version": values["version"],
                    "key": k,
                    "value": v,
                }
                for k, v in tags
            ],
        )


def update_version(conn: Connection, name: str, version: int, values: dict[str, Any]) -> None:
    conn.execute(update(model_versions).where(*_one(name, version)).values(values))


def archive_stage(conn: Connection, name: str, keep: int, stage: str, now: int) -> None:
    """Move every other live version in ``stage`` to Archived."""
    conn.execute(
        update(model_versions)
        .where(*live(), _MV.name == name, _MV.version != keep, _MV.current_stage == stage)
        .values(current_stage=STAGE_ARCHIVED, last_updated_time=now)
    )


def mark_deleted(conn: Connection, name: str, version: int, now: int) -> None:
    """MLflow's delete: park the row in the internal stage and redact what it said."""
    update_version(
        conn,
        name,
        version,
        {
            "current_stage": STAGE_DELETED_INTERNAL,
            "last_updated_time": now,
            "description": None,
            "user_id": None,
            "source": "REDACTED-SOURCE-PATH",
            "run_id": "REDACTED-RUN-ID",
            "run_link": "REDACTED-RUN-LINK",
            "status_message": None,
        },
    )


def set_tag(conn: Connection, name: str, version: int, key: str, value: str) -> None:
    upsert(
        conn,
        model_version_tags,
        [{"workspace": WORKSPACE, "name": name, "version": version, "key": key, "value": value}],
        ["value"],
    )


def delete_tag(conn: Connection, name: str, version: int, key: str) -> None:
    conn.execute(
        delete(model_version_tags).where(
            _MVT.workspace == WORKSPACE,
            _MVT.name == name,
            _MVT.version == version,
            _MVT.key == key,
        )
    )


# -- logged models (MLflow 3): read their location, record the registration on them --------

_LM = logged_models.c
_LMT = logged_model_tags.c


def logged_model(conn: Connection, model_id: str) -> Any:
    """``(experiment_id, artifact_location, source_run_id, lifecycle_stage)`` or None."""
    return conn.execute(
        select(_LM.experiment_id, _LM.artifact_location, _LM.source_run_id, _LM.lifecycle_stage)
        .where(_LM.model_id == model_id)
    ).first()


def record_registration(
    conn: Connection, model_id: str, experiment_id: int, name: str, version: int
) -> None:
    """Append ``{"name", "version"}`` to the logged model's ``mlflow.modelVersions`` tag.

    MLflow's server does this itself (the 3.x client then appends its own copy): the tag is
    how the UI and ``LoggedModel.registrations`` find a model's versions. Same JSON text as
    MLflow writes (``json.dumps`` defaults, version as a number).
    """
    entry = {"name": name, "version": version}
    current = conn.execute(
        select(_LMT.tag_value).where(_LMT.model_id == model_id, _LMT.tag_key == MODEL_VERSIONS_TAG)
    ).scalar()
    entries: list[Any] = []
    if current:
        try:
            parsed = json.loads(current)
        except ValueError:
            parsed = []
        entries = parsed if isinstance(parsed, list) else []
    if entry in entries:
        return
    entries.append(entry)
    upsert(
        conn,
        logged_model_tags,
        [
            {
                "model_id": model_id,
                "experiment_id": experiment_id,
                "tag_key": MODEL_VERSIONS_TAG,
                "tag_value": json.dumps(entries),
            }
        ],
        ["tag_value"],
    )


# -- search ----------------------------------------------------------------------------------

# Columns a model-version filter or order_by may name.
SEARCH_COLUMNS = {
    "name": _MV.name,
    "run_id": _MV.run_id,
    "source_path": _MV.source,
    "version_number": _MV.version,
    "creation_timestamp": _MV.creation_time,
    "last_updated_timestamp": _MV.last_updated_time,
}


def tag_condition(
    tag_table: Any, owner: list[ColumnElement[bool]], clause: Clause, dialect: str
) -> ColumnElement[bool]:
    """The owner has tag ``clause.key`` and its value satisfies the clause (a missing tag
    satisfies nothing, ``!=`` included, as in MLflow)."""
    t = tag_table.c
    return exists().where(
        *owner,
        t.workspace == WORKSPACE,
        compare(t.key, "=", clause.key, dialect),
        compare(t.value, clause.op, clause.value, dialect),
    )


def not_a_prompt(tag_table: Any, owner: list[ColumnElement[bool]], dialect: str) -> Any:
    """Rows that do not carry ``mlflow.prompt.is_prompt = 'true'``."""
    t = tag_table.c
    return not_(
        exists().where(
            *owner,
            t.workspace == WORKSPACE,
            compare(t.key, "=", IS_PROMPT_TAG, dialect),
            compare(t.value, "=", "true", dialect),
        )
    )


def prompt_conditions(
    clauses: Sequence[Clause], tag_table: Any, owner: list[ColumnElement[bool]], dialect: str
) -> tuple[list[Clause], list[Any]]:
    """MLflow's prompt rule for registry searches: unless the filter asks for prompts
    (``tag.`mlflow.prompt.is_prompt` = 'true'``, or ``!= 'false'``), prompts are left out and
    any condition on that tag is dropped, so that a model without the tag matches the
    ``!= 'true'`` the 3.x client always adds."""
    for clause in clauses:
        if clause.entity == "tag" and clause.key == IS_PROMPT_TAG:
            text = str(clause.value).lower()
            if (clause.op == "=" and text == "true") or (clause.op == "!=" and text == "false"):
                return list(clauses), []
            break
    kept = [c for c in clauses if not (c.entity == "tag" and c.key == IS_PROMPT_TAG)]
    return kept, [not_a_prompt(tag_table, owner, dialect)]


def search(
    conn: Connection,
    clauses: Sequence[Clause],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> list[ModelVersion]:
    """One page of live versions (with tags, without aliases, as MLflow's search returns)."""
    dialect = conn.dialect.name
    owner = [_MVT.name == _MV.name, _MVT.version == _MV.version]
    kept, conditions = prompt_conditions(clauses, model_version_tags, owner, dialect)
    for clause in kept:
        if clause.entity == "tag":
            conditions.append(tag_condition(model_version_tags, owner, clause, dialect))
        else:
            conditions.append(compare(SEARCH_COLUMNS[clause.key], clause.op, clause.value, dialect))
    ordering = [
        SEARCH_COLUMNS[key].asc() if ascending else SEARCH_COLUMNS[key].desc()
        for key, ascending in order
    ]
    rows = conn.execute(
        select(*COLUMNS).where(*live(), *conditions).order_by(*ordering).offset(offset).limit(limit)
    ).all()
    found = {(row.name, row.version): from_row(row) for row in rows}
    _attach_tags(conn, found)
    return [found[(row.name, row.version)] for row in rows]
