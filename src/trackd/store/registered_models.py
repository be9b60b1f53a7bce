"""SQL for registered models, their tags and aliases (MLflow's registry tables).

Every registry table is keyed by ``workspace`` first; trackd serves the single ``'default'``
workspace, and always filters on it so that the primary-key indexes are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    String,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from trackd.entities.registry import STAGE_DELETED_INTERNAL, ModelVersion, RegisteredModel
from trackd.service.filters import Clause
from trackd.store import model_versions as mv_store
from trackd.store.runs_search import compare
from trackd.store.tables import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from trackd.store.upsert import upsert

WORKSPACE = "default"

_RM = registered_models.c
_RMT = registered_model_tags.c
_AL = registered_model_aliases.c
_MV = model_versions.c
_MVT = model_version_tags.c


def _rm_where(name: str) -> list[ColumnElement[bool]]:
    return [_RM.workspace == WORKSPACE, _RM.name == name]


def exists(conn: Connection, name: str, *, lock: bool = False) -> bool:
    """Whether the model exists; ``lock`` takes its row lock to serialise writers of one model."""
    stmt = select(_RM.name).where(*_rm_where(name))
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first() is not None


def insert_model(
    conn: Connection,
    name: str,
    now: int,
    description: str | None,
    tags: Sequence[tuple[str, str]],
) -> None:
    conn.execute(
        insert(registered_models).values(
            workspace=WORKSPACE, name=name, creation_time=now, last_updated_time=now,
            description=description,
        )
    )
    if tags:
        conn.execute(
            insert(registered_model_tags),
            [{"workspace": WORKSPACE, "name": name, "key": k, "value": v} for k, v in tags],
        )


def update_model(conn: Connection, name: str, values: dict[str, Any]) -> None:
    conn.execute(update(registered_models).where(*_rm_where(name)).values(values))


def rename_model(conn: Connection, name: str, new_name: str, now: int) -> None:
    """Move a model and everything hanging off it to ``new_name``.

    The foreign keys say ON UPDATE CASCADE, but SQLite enforces nothing unless asked and the
    dialects disagree on cascading through two levels (model -> version -> version tag), so
    the rows are copied under the new name child-after-parent and the old ones deleted
    child-first: at no point does a row point at a missing parent, whatever the database.
    """
    row = conn.execute(
        select(_RM.creation_time, _RM.description).where(*_rm_where(name))
    ).one()
    conn.execute(
        insert(registered_models).values(
            workspace=WORKSPACE, name=new_name, creation_time=row.creation_time,
            last_updated_time=now, description=row.description,
        )
    )
    version_columns = [c for c in model_versions.c if c.name != "name"]
    conn.execute(
        insert(model_versions).from_select(
            ["name", *(c.name for c in version_columns)],
            select(*_renamed(new_name, version_columns, last_updated=now)).where(
                _MV.workspace == WORKSPACE, _MV.name == name
            ),
        )
    )
    for table in (model_version_tags, registered_model_tags, registered_model_aliases):
        others = [c for c in table.c if c.name != "name"]
        conn.execute(
            insert(table).from_select(
                ["name", *(c.name for c in others)],
                select(*_renamed(new_name, others)).where(
                    table.c.workspace == WORKSPACE, table.c.name == name
                ),
            )
        )
    _delete_children(conn, name)


def _renamed(new_name: str, columns: list[Any], last_updated: int | None = None) -> list[Any]:
    """SELECT list copying ``columns`` under a new name (and a new update time, if given)."""
    # Typed literals: PostgreSQL cannot infer the type of a bare parameter in a SELECT list.
    out: list[Any] = [cast(literal(new_name), String(256)).label("name")]
    for column in columns:
        if last_updated is not None and column.name == "last_updated_time":
            out.append(cast(literal(last_updated), BigInteger).label(column.name))
        else:
            out.append(column)
    return out


def _delete_children(conn: Connection, name: str) -> None:
    """Delete a model's rows in every registry table, children before parents."""
    for table in (
        model_version_tags,
        registered_model_aliases,
        registered_model_tags,
        model_versions,
        registered_models,
    ):
        conn.execute(delete(table).where(table.c.workspace == WORKSPACE, table.c.name == name))


def delete_model(conn: Connection, name: str) -> None:
    _delete_children(conn, name)


# -- tags ------------------------------------------------------------------------------------


def set_tag(conn: Connection, name: str, key: str, value: str) -> None:
    upsert(
        conn,
        registered_model_tags,
        [{"workspace": WORKSPACE, "name": name, "key": key, "value": value}],
        ["value"],
    )


def delete_tag(conn: Connection, name: str, key: str) -> None:
    conn.execute(
        delete(registered_model_tags).where(
            _RMT.workspace == WORKSPACE, _RMT.name == name, _RMT.key == key
        )
    )


# -- aliases ---------------------------------------------------------------------------------


def set_alias(conn: Connection, name: str, alias: str, version: int) -> None:
    upsert(
        conn,
        registered_model_aliases,
        [{"workspace": WORKSPACE, "name": name, "alias": alias, "version": version}],
        ["version"],
    )


def delete_alias(conn: Connection, name: str, alias: str) -> None:
    conn.execute(
        delete(registered_model_aliases).where(
            _AL.workspace == WORKSPACE, _AL.name == name, _AL.alias == alias
        )
    )


def delete_aliases_of_version(conn: Connection, name: str, version: int) -> None:
    conn.execute(
        delete(registered_model_aliases).where(
            _AL.workspace == WORKSPACE, _AL.name == name, _AL.version == version
        )
    )


def alias_version(conn: Connection, name: str, alias: str) -> int | None:
    return conn.execute(  # type: ignore[no-any-return]
        select(_AL.version).where(_AL.workspace == WORKSPACE, _AL.name == name, _AL.alias == alias)
    ).scalar()


def aliases_by_model(conn: Connection, names: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {n: [] for n in names}
    if names:
        for name, alias, version in conn.execute(
            select(_AL.name, _AL.alias, _AL.version)
            .where(_AL.workspace == WORKSPACE, _AL.name.in_(list(names)))
            .order_by(_AL.alias)
        ):
            out[name].append((alias, version))
    return out


# -- whole models ----------------------------------------------------------------------------


def load_models(conn: Connection, names: Sequence[str]) -> list[RegisteredModel]:
    """Whole models in the order of ``names``, in a fixed number of queries."""
    if not names:
        return []
    wanted = list(dict.fromkeys(names))
    found = {
        row.name: RegisteredModel(
            row.name, row.creation_time, row.last_updated_time, row.description
        )
        for row in conn.execute(
            select(_RM.name, _RM.creation_time, _RM.last_updated_time, _RM.description).where(
                _RM.workspace == WORKSPACE, _RM.name.in_(wanted)
            )
        )
    }
    present = list(found)
    if not present:
        return []
    for name, key, value in conn.execute(
        select(_RMT.name, _RMT.key, _RMT.value)
        .where(_RMT.workspace == WORKSPACE, _RMT.name.in_(present))
        .order_by(_RMT.key)
    ):
        found[name].tags.append((key, value))
    for name, aliases in aliases_by_model(conn, present).items():
        found[name].aliases = aliases
    for version in latest_versions(conn, present):
        found[version.name].latest_versions.append(version)
    return [found[n] for n in wanted if n in found]


def latest_versions(conn: Connection, names: Sequence[str]) -> list[ModelVersion]:
    """The newest live version in each stage of each model, oldest version first."""
    if not names:
        return []
    newest = conn.execute(
        select(_MV.name, func.max(_MV.version))
        .where(
            _MV.workspace == WORKSPACE,
            _MV.name.in_(list(names)),
            _MV.current_stage != STAGE_DELETED_INTERNAL,
        )
        .group_by(_MV.name, _MV.current_stage)
    ).all()
    keys = sorted(((name, version) for name, version in newest), key=lambda k: (k[0], k[1]))
    return mv_store.load_versions(conn, keys)


# -- search ----------------------------------------------------------------------------------

SORT_COLUMNS = {
    "name": _RM.name,
    "creation_timestamp": _RM.creation_time,
    "last_updated_timestamp": _RM.last_updated_time,
}


def search_names(
    conn: Connection,
    clauses: Sequence[Clause],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> list[str]:
    """Names of one page of matching models (prompts left out unless asked for)."""
    dialect = conn.dialect.name
    owner = [_RMT.name == _RM.name]
    kept, conditions = mv_store.prompt_conditions(clauses, registered_model_tags, owner, dialect)
    for clause in kept:
        if clause.entity == "tag":
            conditions.append(
                mv_store.tag_condition(registered_model_tags, owner, clause, dialect)
            )
        else:
            conditions.append(compare(_RM.name, clause.op, clause.value, dialect))
    ordering = [
        SORT_COLUMNS[key].asc() if ascending else SORT_COLUMNS[key].desc()
        for key, ascending in order
    ]
    return list(
        conn.execute(
            select(_RM.name)
            .where(_RM.workspace == WORKSPACE, *conditions)
            .order_by(*ordering)
            .offset(offset)
            .limit(limit)
        ).scalars()
    )
