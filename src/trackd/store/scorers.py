"""Registered scorers, their versions and online-scoring configs (SQL only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, column, delete, func, insert, select, table

from trackd.entities.scorers import OnlineScoringConfig, ScorerVersion
from trackd.store.tables import online_scoring_configs, scorer_versions, scorers

_S, _V, _O = scorers.c, scorer_versions.c, online_scoring_configs.c
_READ = (_S.experiment_id, _S.scorer_id, _S.scorer_name, _V.scorer_version,
         _V.serialized_scorer, _V.creation_time)


# MLflow's gateway links a scorer to an endpoint here; deleting the scorer drops the link.
_bindings = table("endpoint_bindings", column("resource_type"), column("resource_id"))


def _entity(r: Any) -> ScorerVersion:
    return ScorerVersion(experiment_id=int(r.experiment_id), scorer_id=r.scorer_id,
                         name=r.scorer_name, version=int(r.scorer_version),
                         serialized_scorer=r.serialized_scorer,
                         creation_time=int(r.creation_time or 0))


def find_id(conn: Connection, experiment_id: int, name: str) -> str | None:
    """The scorer named exactly ``name``: MySQL compares names without case or accents, and a
    near-miss must not act on another scorer (MLflow's rule)."""
    for scorer_id, found in conn.execute(select(_S.scorer_id, _S.scorer_name).where(
            _S.experiment_id == experiment_id, _S.scorer_name == name)):
        if found == name:
            return str(scorer_id)
    return None


def name_taken_by_collation(conn: Connection, experiment_id: int, name: str) -> bool:
    """Whether the database sees another scorer name as equal to ``name`` (MySQL collations)."""
    found = conn.scalars(select(_S.scorer_name).where(_S.experiment_id == experiment_id,
                                                      _S.scorer_name == name)).all()
    return any(n != name for n in found) and name not in found


def add_scorer(conn: Connection, experiment_id: int, name: str, scorer_id: str) -> None:
    conn.execute(insert(scorers).values(experiment_id=experiment_id, scorer_name=name,
                                        scorer_id=scorer_id))


def add_version(conn: Connection, scorer_id: str, serialized: str, now_ms: int) -> int:
    latest = conn.scalar(select(func.max(_V.scorer_version)).where(_V.scorer_id == scorer_id))
    version = 1 if latest is None else int(latest) + 1
    conn.execute(insert(scorer_versions).values(scorer_id=scorer_id, scorer_version=version,
                                                serialized_scorer=serialized,
                                                creation_time=now_ms))
    return version


def version(conn: Connection, scorer_id: str, number: int | None) -> ScorerVersion | None:
    """One version, or the latest when ``number`` is None."""
    query = select(*_READ).join(scorers, _S.scorer_id == _V.scorer_id).where(
        _V.scorer_id == scorer_id)
    if number is not None:
        query = query.where(_V.scorer_version == number)
    row = conn.execute(query.order_by(_V.scorer_version.desc()).limit(1)).first()
    return None if row is None else _entity(row)


def versions(conn: Connection, scorer_id: str) -> list[ScorerVersion]:
    query = select(*_READ).join(scorers, _S.scorer_id == _V.scorer_id).where(
        _V.scorer_id == scorer_id).order_by(_V.scorer_version)
    return [_entity(r) for r in conn.execute(query)]


def latest_per_scorer(conn: Connection, experiment_ids: Sequence[int]) -> list[ScorerVersion]:
    """The latest version of every scorer of these experiments, by experiment then name."""
    if not experiment_ids:
        return []
    latest = (select(_V.scorer_id, func.max(_V.scorer_version).label("top"))
              .group_by(_V.scorer_id).subquery())
    query = (select(*_READ).join(scorers, _S.scorer_id == _V.scorer_id)
             .join(latest, (latest.c.scorer_id == _V.scorer_id)
                   & (latest.c.top == _V.scorer_version))
             .where(_S.experiment_id.in_(list(experiment_ids))))
    found = [_entity(r) for r in conn.execute(query)]
    return sorted(found, key=lambda s: (s.experiment_id, s.name))


def delete_versions(conn: Connection, scorer_id: str, number: int | None) -> int:
    query = delete(scorer_versions).where(_V.scorer_id == scorer_id)
    if number is not None:
        query = query.where(_V.scorer_version == number)
    return int(conn.execute(query).rowcount)


def delete_scorer(conn: Connection, scorer_id: str) -> None:
    conn.execute(delete(_bindings).where(_bindings.c.resource_type == "scorer",
                                         _bindings.c.resource_id == scorer_id))
    conn.execute(delete(online_scoring_configs).where(_O.scorer_id == scorer_id))
    conn.execute(delete(scorers).where(_S.scorer_id == scorer_id))


def replace_config(conn: Connection, config: OnlineScoringConfig) -> None:
    """A scorer has one config: the new one replaces what was there."""
    conn.execute(delete(online_scoring_configs).where(_O.scorer_id == config.scorer_id))
    conn.execute(insert(online_scoring_configs).values(
        online_scoring_config_id=config.config_id, scorer_id=config.scorer_id,
        sample_rate=config.sample_rate, experiment_id=config.experiment_id,
        filter_string=config.filter_string))


def configs(conn: Connection, scorer_ids: Sequence[str]) -> list[OnlineScoringConfig]:
    if not scorer_ids:
        return []
    rows = conn.execute(select(_O.online_scoring_config_id, _O.scorer_id, _O.sample_rate,
                               _O.experiment_id, _O.filter_string)
                        .where(_O.scorer_id.in_(list(scorer_ids))))
    return [OnlineScoringConfig(config_id=r.online_scoring_config_id, scorer_id=r.scorer_id,
                                sample_rate=float(r.sample_rate),
                                experiment_id=int(r.experiment_id),
                                filter_string=r.filter_string) for r in rows]


_experiments = table("experiments", column("experiment_id"), column("lifecycle_stage"))
_endpoints = table("endpoints", column("endpoint_id"), column("name"))


def active_experiments(conn: Connection, ids: Sequence[int] | None) -> list[int]:
    """Active experiments among ``ids`` (all active ones when None)."""
    query = select(_experiments.c.experiment_id).where(
        _experiments.c.lifecycle_stage == "active")
    if ids is not None:
        if not ids:
            return []
        query = query.where(_experiments.c.experiment_id.in_(list(ids)))
    return [int(i) for i in conn.scalars(query)]


def endpoint_exists(conn: Connection, name_or_id: str) -> bool:
    found = conn.scalar(select(_endpoints.c.endpoint_id).where(
        (_endpoints.c.name == name_or_id) | (_endpoints.c.endpoint_id == name_or_id)))
    return found is not None
