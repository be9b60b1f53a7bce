"""The ``label_schemas`` table (SQL only). ``input_config`` is the JSON of the input's settings,
``input_type`` names which input it is, as MLflow stores them."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from trackd.entities.label_schemas import LabelSchema

_t = sa.table("label_schemas", *(sa.column(c) for c in (
    "schema_id", "experiment_id", "name", "type", "instruction", "enable_comment", "input_type",
    "input_config", "created_by", "created_time", "last_update_time", "is_default")))
_C = _t.c


def _schema(r: Any) -> LabelSchema:
    return LabelSchema(
        schema_id=r.schema_id, experiment_id=int(r.experiment_id), name=r.name, type=r.type,
        input_kind=r.input_type, input_config=json.loads(r.input_config or "{}"),
        created_ms=int(r.created_time), updated_ms=int(r.last_update_time),
        instruction=r.instruction, enable_comment=bool(r.enable_comment),
        created_by=r.created_by, is_default=bool(r.is_default))


def _values(s: LabelSchema) -> dict[str, Any]:
    return {"name": s.name, "instruction": s.instruction, "enable_comment": s.enable_comment,
            "input_type": s.input_kind, "input_config": json.dumps(s.input_config),
            "last_update_time": s.updated_ms}


def insert(conn: Connection, s: LabelSchema) -> None:
    conn.execute(sa.insert(_t).values(
        schema_id=s.schema_id, experiment_id=s.experiment_id, type=s.type,
        created_by=s.created_by, created_time=s.created_ms, is_default=s.is_default,
        **_values(s)))


def update(conn: Connection, s: LabelSchema) -> None:
    conn.execute(sa.update(_t).where(_C.schema_id == s.schema_id).values(**_values(s)))


def delete(conn: Connection, schema_id: str) -> None:
    conn.execute(sa.delete(_t).where(_C.schema_id == schema_id))


def get(conn: Connection, schema_id: str) -> LabelSchema | None:
    row = conn.execute(sa.select(_t).where(_C.schema_id == schema_id)).first()
    return None if row is None else _schema(row)


def by_name(conn: Connection, experiment_id: int, name: str) -> LabelSchema | None:
    row = conn.execute(sa.select(_t).where(_C.experiment_id == experiment_id,
                                           _C.name == name)).first()
    return None if row is None else _schema(row)


def has_default(conn: Connection, experiment_id: int) -> bool:
    query = sa.select(_C.schema_id).where(_C.experiment_id == experiment_id,
                                          _C.is_default == sa.true()).limit(1)
    return conn.execute(query).first() is not None


def page(conn: Connection, experiment_id: int, offset: int, limit: int) -> list[LabelSchema]:
    """Newest first, as MLflow lists them (the default question, made first, comes last)."""
    query = (sa.select(_t).where(_C.experiment_id == experiment_id)
             .order_by(_C.created_time.desc(), _C.schema_id.asc()).offset(offset).limit(limit))
    return [_schema(r) for r in conn.execute(query)]
