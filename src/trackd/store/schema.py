"""Where a database stands relative to MLflow 3.18's schema, and the one way trackd changes it.

    state = inspect_schema(engine)        # empty / current / older / newer
    create_schema(engine)                 # empty database -> MLflow 3.18 schema at HEAD
    state, created = open_schema(engine)  # server start: create on empty, race-safe
    upgrade(engine)                       # `trackd db upgrade`: create or add trackd_* indexes

trackd creates MLflow's schema with its own Alembic baseline (``trackd.migrations``), whose
revision id is MLflow's head, so the database reads as "at head" to ``mlflow db upgrade`` too.
trackd never replays MLflow's ~70 historic migrations: a database at an older MLflow revision is
upgraded with MLflow's own tool first (:func:`outdated_message` says exactly how).
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Literal

import sqlalchemy as sa

from trackd.migrations import SCRIPT_LOCATION
from trackd.store import tables

HEAD = "f4a9b2c7d1e6"
MLFLOW_VERSION = "3.18.0"

# MLflow's own revisions before HEAD, oldest first (facts from mlflow 3.18's
# mlflow/store/db_migrations/versions). Seeing one of them means "an older MLflow built this
# database"; any other id means a newer MLflow (or something else) that trackd does not know.
KNOWN_MLFLOW_REVISIONS: tuple[str, ...] = (
    "451aebb31d03", "90e64c465722", "181f10493468", "df50e92ffc5e", "7ac759974ad8",
    "89d4b8295536", "2b4d017a5e9b", "cfd24bdc0731", "0a8213491aaa", "728d730b5ebd",
    "27a6a02d2cf1", "84291f40a231", "a8c4a736bde6", "39d1c3be5f05", "c48cb773bb87",
    "bd07f7e963c5", "0c779009ac13", "cc1f77228345", "97727af70f4d", "3500859a5d39",
    "7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c",
    "4465047574b1", "f5a4f2784254", "0584bdc529eb", "400f98739977", "6953534de441",
    "bda7b8c39065", "cbc13b556ace", "770bee3ae1dd", "a1b2c3d4e5f6", "de4033877273",
    "1a0cddfcaa16", "534353b11cbc", "71994744cf8e", "3da73c924c2f", "bf29a5ff90ea",
    "1bd49d398cd23", "b7c8d9e0f1a2", "5d2d30f0abce", "c9d4e5f6a7b8", "2c33131f4dae",
    "d3e4f5a6b7c8", "d0e1f2a3b4c5", "c8d9e0f1a2b3", "1b5f0d9ad7c1", "e1f2a3b4c5d6",
    "76601a5f987d", "c3d6457b6d8a", "a5b4c3d2e1f0", "ae8bbe7743c9", "7d34483879f0",
    "da6fb0208061", "89d3d66ed43f", "b7e4c1a90f23", "a8b9c0d1e2f3", "c1d2e3f4a5b6",
    "c3d9e7f1a2b4", "6f8d9c3b2a1e", "1971f2d9a75b", "17e22815139b", "b7e2c1a4d9f3",
    "75868b020152", "dc11669786a5", "e7d1f4b2a9c6", "8b6ad64cb8f5",
)  # fmt: skip


class SchemaError(Exception):
    """The database's schema is not one trackd may use or change; the message says what to do."""


@dataclass(frozen=True)
class SchemaState:
    kind: Literal["empty", "current", "older", "newer"]
    # The alembic revision found; None when empty, or for an MLflow database from before MLflow
    # versioned its schema (MLflow tables but no alembic_version).
    found: str | None


@cache
def mlflow_table_names() -> frozenset[str]:
    """Every table of MLflow 3.18's schema."""
    # Imported here: building the baseline costs ~40 ms that a start on a current database
    # never needs (inspect_schema answers "current" without it).
    from trackd.migrations import baseline

    return frozenset(baseline.build("sqlite").tables)


def inspect_schema(engine: sa.Engine) -> SchemaState:
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        versions: list[str] = []
        if "alembic_version" in present:
            versions = list(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
    if versions == [HEAD]:
        return SchemaState("current", HEAD)
    has_mlflow_tables = bool(present & mlflow_table_names())
    if not versions:
        # No recorded revision: an empty database (unrelated tables are fine), or MLflow
        # tables from a release before MLflow versioned its schema.
        return SchemaState("older" if has_mlflow_tables else "empty", None)
    unknown = [v for v in versions if v != HEAD and v not in KNOWN_MLFLOW_REVISIONS]
    if unknown:
        if not has_mlflow_tables:
            raise SchemaError(
                f"the database has an alembic_version table at revision {unknown[0]} but none "
                "of MLflow's tables: it belongs to another application. Give trackd a database "
                "of its own."
            )
        return SchemaState("newer", unknown[0])
    older = [v for v in versions if v in KNOWN_MLFLOW_REVISIONS]
    return SchemaState("older", min(older, key=KNOWN_MLFLOW_REVISIONS.index))


def create_schema(engine: sa.Engine) -> None:
    """Create MLflow 3.18's whole schema on an empty database; alembic_version becomes HEAD."""
    state = inspect_schema(engine)
    if state.kind != "empty":
        raise SchemaError(f"refusing to create the schema: the database is not empty ({state})")
    _alembic_upgrade(engine)


def open_schema(engine: sa.Engine) -> tuple[SchemaState, bool]:
    """The schema's state at server start, after creating MLflow's schema and trackd's indexes
    on an empty database; True when this call created them.

    Several trackd processes may start on one empty database at once (replicas of a
    deployment): exactly one creates the schema, the others wait and then find it current.
    """
    with creation_lock(engine):
        state = inspect_schema(engine)
        if state.kind != "empty":
            return state, False
        try:
            _alembic_upgrade(engine)
        except sa.exc.DBAPIError:
            # Without a lock (SQLite), a process that saw the database empty fails on the
            # tables another one created meanwhile, in one transaction (BEGIN IMMEDIATE).
            state = inspect_schema(engine)
            if state.kind != "current":
                raise
            return state, False
        ensure_trackd_indexes(engine)
        return SchemaState("current", HEAD), True


# Any fixed number: PostgreSQL's advisory locks are per database, so this one names
# "creating trackd's schema in this database".
_PG_LOCK_KEY = 0x7472_6163_6B64
_LOCK_WAIT_S = 600


@contextlib.contextmanager
def creation_lock(engine: sa.Engine) -> Iterator[None]:
    """A lock across processes, held while one of them looks at a schema and creates it
    (the tracking schema here, the auth schema in :mod:`trackd.auth.schema`).

    PostgreSQL creates the whole schema in one transaction and could do without it, but
    MySQL/MariaDB commit each CREATE TABLE on its own, so a second process would see half a
    schema. SQLite gets none: see :func:`open_schema`.
    """
    dialect = engine.dialect.name
    if dialect == "postgresql":
        take = sa.text("SELECT pg_advisory_lock(:key)").bindparams(key=_PG_LOCK_KEY)
        release = sa.text("SELECT pg_advisory_unlock(:key)").bindparams(key=_PG_LOCK_KEY)
    elif dialect in ("mysql", "mariadb"):
        name = "CONCAT('trackd_schema:', LEFT(DATABASE(), 40))"  # lock names hold 64 chars
        take = sa.text(f"SELECT GET_LOCK({name}, {_LOCK_WAIT_S})")
        release = sa.text(f"SELECT RELEASE_LOCK({name})")
    else:
        yield
        return
    # A session lock on a connection of its own, held outside any transaction.
    with engine.connect() as conn:
        got = conn.execute(take).scalar()
        conn.commit()
        if got == 0:  # GET_LOCK's timeout (pg_advisory_lock waits for ever)
            raise SchemaError(
                f"another process held trackd's schema lock for {_LOCK_WAIT_S} s; is a "
                "trackd stuck creating the schema of this database?"
            )
        try:
            yield
        finally:
            conn.execute(release)
            conn.commit()


def upgrade(engine: sa.Engine) -> str:
    """``trackd db upgrade``: bring the database to HEAD plus trackd's indexes; say what was done.

    Empty database: create the schema and the indexes. Current: add any missing ``trackd_*``
    index (idempotent). Older or newer MLflow revision: raise :class:`SchemaError` and change
    nothing.
    """
    state = inspect_schema(engine)
    if state.kind in ("older", "newer"):
        raise SchemaError(outdated_message(state, engine.url))
    created_schema = state.kind == "empty"
    if created_schema:
        _alembic_upgrade(engine)
    added = ensure_trackd_indexes(engine)
    done = [f"created MLflow {MLFLOW_VERSION} schema at {HEAD}"] if created_schema else []
    done.append(f"added indexes {', '.join(added)}" if added else "trackd indexes present")
    return f"{'; '.join(done)} (schema revision {HEAD})"


def outdated_message(state: SchemaState, uri: str | sa.URL) -> str:
    """What to tell a user whose database is at another revision than HEAD."""
    shown = sa.make_url(uri).render_as_string(hide_password=True)
    quoted = shlex.quote(shown)
    if state.kind == "newer":
        return (
            f"The database {shown} is at schema revision {state.found}, which this trackd does "
            f"not know (it supports MLflow {MLFLOW_VERSION}, revision {HEAD}); it was probably "
            "created by a newer MLflow. trackd will not change it: use a trackd release that "
            "supports that MLflow version."
        )
    found = (
        f"schema revision {state.found}"
        if state.found
        else "MLflow tables but no schema revision (from before MLflow versioned its schema)"
    )
    note = " (password hidden: put it back in the URI)" if "***" in shown else ""
    return (
        f"The database {shown} has {found}; trackd needs revision {HEAD} (MLflow "
        f"{MLFLOW_VERSION}). trackd does not replay MLflow's historic migrations, so upgrade the "
        f"schema with MLflow's own tool, then add trackd's indexes{note}. Back up the database "
        "first.\n"
        f"    pip install 'mlflow=={MLFLOW_VERSION}' && mlflow db upgrade {quoted}\n"
        f"    trackd db upgrade {quoted}"
    )


def _alembic_upgrade(engine: sa.Engine) -> None:
    # Alembic is imported only when a schema is really created (~60 ms of start-up otherwise).
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # engine.begin(): on PostgreSQL the whole schema is created in one transaction.
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, HEAD)


# --- trackd's own indexes ----------------------------------------------------------------------
# Named trackd_* so they can never clash with a future MLflow migration, and not recorded in
# alembic_version, so `mlflow server` / `mlflow db upgrade` keep working on the database.


def _trackd_indexes(dialect: str) -> list[sa.Index]:
    meta = sa.MetaData()
    runs = tables.runs.to_metadata(meta)
    latest = tables.latest_metrics.to_metadata(meta)
    params = tables.params.to_metadata(meta)
    tags = tables.tags.to_metadata(meta)
    versions = tables.model_versions.to_metadata(meta)
    models = tables.logged_models.to_metadata(meta)
    indexes = [
        # search_runs always filters one or more experiments by lifecycle stage and pages by
        # start_time DESC; MLflow has no index on runs.experiment_id (except MySQL's FK index),
        # so without this every search scans all runs of all experiments.
        sa.Index(
            "trackd_runs_experiment_id_lifecycle_stage_start_time",
            runs.c.experiment_id,
            runs.c.lifecycle_stage,
            runs.c.start_time,
        ),
        # `metrics.acc > 0.9` and ORDER BY metrics.acc: a range scan on one key's values (the
        # primary key (key, run_uuid) can only list every run that logged the key); run_uuid
        # makes it covering for the join back to runs.
        sa.Index(
            "trackd_latest_metrics_key_value",
            latest.c.key,
            latest.c.value,
            latest.c.run_uuid,
        ),
        # The run page asks for the model versions registered from a run (run_id = ...).
        sa.Index("trackd_model_versions_run_id", versions.c.run_id),
        # search_logged_models lists one experiment's models, newest first.
        sa.Index(
            "trackd_logged_models_experiment_id_creation",
            models.c.experiment_id,
            models.c.creation_timestamp_ms,
        ),
    ]
    # `params.x = 'v'` / `tags.x = 'v'` filters: equality (and prefix LIKE) on one key's values.
    # Values are VARCHAR(8000): PostgreSQL (~2.7 kB) and SQL Server (1.7 kB) cap btree entries
    # and would then reject long but valid values on INSERT, so these exist only where that
    # cannot happen: SQLite (no cap) and MySQL (indexing a 255-character prefix).
    if dialect in ("sqlite", "mysql"):
        for name, table in (("trackd_params_key_value", params), ("trackd_tags_key_value", tags)):
            index = sa.Index(name, table.c.key, table.c.value, mysql_length={"value": 255})
            indexes.append(index)
    return indexes


def trackd_index_names(dialect: str) -> list[str]:
    return [str(ix.name) for ix in _trackd_indexes(dialect)]


def ensure_trackd_indexes(engine: sa.Engine) -> list[str]:
    """Create the missing trackd_* indexes; return the names of those created."""
    created: list[str] = []
    with engine.begin() as conn:
        for index in _trackd_indexes(conn.dialect.name):
            table = index.table
            assert table is not None  # the indexes are built from table columns
            before = _indexes_of(conn, table.name)
            if index.name in before:
                continue
            index.create(conn)
            created.append(str(index.name))
            _restore_dropped(conn, table.name, before)
    return created


def _indexes_of(conn: sa.Connection, table: str) -> dict[str, list[str]]:
    # A fresh inspector each time: an inspector caches what it has already read.
    return {
        str(ix["name"]): [str(c) for c in ix["column_names"]]
        for ix in sa.inspect(conn).get_indexes(table)
    }


def _restore_dropped(conn: sa.Connection, table: str, before: dict[str, list[str]]) -> None:
    """Put back any index the database dropped by itself when a trackd index was added.

    InnoDB silently drops the index it generated for a foreign key (e.g. ``runs.experiment_id``)
    once another index can serve that key. MLflow's schema includes those indexes, so trackd
    recreates them under the same name and columns; the database then stays exactly MLflow's
    schema plus trackd_* indexes.
    """
    after = _indexes_of(conn, table)
    for name, columns in before.items():
        if name not in after:
            bare = sa.Table(table, sa.MetaData(), *(sa.Column(c) for c in columns))
            sa.Index(name, *(bare.c[c] for c in columns)).create(conn)
