"""Fresh databases for each server and run, and the clone used for mlflow's search phase.

SQLite databases are files in the run's work directory; PostgreSQL ones are created on
127.0.0.1:5432 (trust auth, user root) and MariaDB/MySQL ones on 127.0.0.1:3306 (root, no
password) as ``bench_<server>``, dropped first if a previous run left them behind.

``TRACKD_BENCH_DRIVERS=mysql=mysqldb`` (or ``postgresql=psycopg2``) puts another driver in the
URL the servers get, to compare drivers (bench/analysis.md, "Database drivers").
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN = "host=127.0.0.1 port=5432 user=root dbname=postgres"
PG_HOST = "root@127.0.0.1:5432"
MY_HOST = "root@127.0.0.1:3306"
BACKENDS = ("sqlite", "postgresql", "mysql")


@dataclass
class Db:
    backend: str  # "sqlite", "postgresql" or "mysql" (MariaDB)
    name: str  # file stem or database name
    path: Path | None = None  # SQLite file

    def sqlalchemy_url(self) -> str:
        """The URL trackd and mlflow take."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.path}"
        drivers = {"mysql": "pymysql", "postgresql": "psycopg"}
        for item in os.environ.get("TRACKD_BENCH_DRIVERS", "").split(","):
            backend, _, driver = item.strip().partition("=")
            if backend in drivers and driver:
                drivers[backend] = driver
        if self.backend == "mysql":
            return f"mysql+{drivers['mysql']}://{MY_HOST}/{self.name}"
        return f"postgresql+{drivers['postgresql']}://{PG_HOST}/{self.name}"

    def fasttrackml_url(self) -> str:
        # FastTrackML's own spelling: sqlite://<path> (an absolute path brings its own slash).
        if self.backend == "sqlite":
            return f"sqlite://{self.path}"
        return f"postgres://{PG_HOST}/{self.name}?sslmode=disable"


def _pg_admin():  # imported late: only PostgreSQL runs need psycopg
    import psycopg

    return psycopg.connect(PG_ADMIN, autocommit=True)


def _my_admin(dbname: str | None = None):  # imported late: only MariaDB runs need pymysql
    import pymysql

    return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                           database=dbname, autocommit=True)


def _my_execute(*statements: str, dbname: str | None = None) -> None:
    conn = _my_admin(dbname)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def fresh(backend: str, name: str, workdir: Path) -> Db:
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return Db(backend, name, path)
    dbname = f"bench_{name.replace('-', '_')}"
    if backend == "mysql":
        # The server's default character set, as the test suite's databases have it.
        _my_execute(f"DROP DATABASE IF EXISTS `{dbname}`", f"CREATE DATABASE `{dbname}`")
        return Db(backend, dbname)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return Db(backend, dbname)


def drop(db: Db) -> None:
    if db.backend == "sqlite":
        assert db.path is not None
        for suffix in ("", "-wal", "-shm"):
            Path(str(db.path) + suffix).unlink(missing_ok=True)
        return
    if db.backend == "mysql":
        _my_execute(f"DROP DATABASE IF EXISTS `{db.name}`")
        return
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with _pg_admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: skip the backend, say why
        return f"{type(exc).__name__}: {exc}"
    return None


def available(backend: str) -> str | None:
    """None when the backend's server answers (SQLite always does), else why not."""
    if backend == "postgresql":
        return postgres_available()
    if backend == "mysql":
        try:
            _my_execute("SELECT 1")
        except Exception as exc:  # any failure means: skip the backend, say why
            return f"{type(exc).__name__}: {exc}"
    return None


def clone(source: Db, name: str, workdir: Path) -> Db:
    """A copy of ``source`` (which no server may hold open) under a new name."""
    if source.backend == "sqlite":
        target = fresh("sqlite", name, workdir)
        src = sqlite3.connect(str(source.path))
        dst = sqlite3.connect(str(target.path))
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        return target
    if source.backend == "mysql":
        return _my_clone(source, name)
    dbname = f"bench_{name.replace('-', '_')}"
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{source.name}"')
    return Db("postgresql", dbname)


def _my_clone(source: Db, name: str) -> Db:
    """MariaDB has no template databases: copy each table's definition, then its rows."""
    target = fresh("mysql", name, Path("."))
    conn = _my_admin(source.name)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
            tables = [row[0] for row in cur.fetchall()]
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            # The Default experiment's id is 0, which an AUTO_INCREMENT column would renumber.
            cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
            for table in tables:
                cur.execute(f"CREATE TABLE `{target.name}`.`{table}` LIKE `{table}`")
                cur.execute(f"INSERT INTO `{target.name}`.`{table}` SELECT * FROM `{table}`")
            cur.execute("SET FOREIGN_KEY_CHECKS = 1")
    finally:
        conn.close()
    return target


def _indexes(db: Db) -> dict[str, str]:
    """Index name → the statement that creates it (constraint-backed indexes left out)."""
    if db.backend == "sqlite":
        lite = sqlite3.connect(str(db.path))
        rows = lite.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        lite.close()
        return dict(rows)
    if db.backend == "mysql":
        return _my_indexes(db)
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port=5432 user=root dbname={db.name}") as conn:
        rows = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()
    return dict(rows)


def align_indexes(db: Db, reference: Db) -> list[str]:
    """Give ``db`` exactly the plain indexes ``reference`` has; returns what changed.

    mlflow searches a clone of trackd's database; trackd may add indexes of its own that
    mlflow's schema lacks. Dropping them (and adding any mlflow has that trackd lacks) makes
    mlflow read the database it would have built itself.
    """
    mine, theirs = _indexes(db), _indexes(reference)
    drops = [name for name in mine if name not in theirs]
    adds = [sql for name, sql in theirs.items() if name not in mine]
    if not drops and not adds:
        return []
    statements = [f'DROP INDEX IF EXISTS "{name}"' for name in drops] + adds
    if db.backend == "mysql":
        return _my_align(db, mine, theirs, drops, adds)
    if db.backend == "sqlite":
        lite = sqlite3.connect(str(db.path))
        with lite:
            for sql in statements:
                lite.execute(sql)
        lite.close()
    else:
        import psycopg

        dsn = f"host=127.0.0.1 port=5432 user=root dbname={db.name}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)
    return [f"dropped {name}" for name in drops] + [f"added {sql}" for sql in adds]


def _my_indexes(db: Db) -> dict[str, str]:
    """MariaDB: "table.index" → its column list (primary keys and unique ones left out)."""
    conn = _my_admin(db.name)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name, index_name, GROUP_CONCAT(CONCAT('`', column_name, '`') "
                "ORDER BY seq_in_index) FROM information_schema.statistics "
                "WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY' AND non_unique = 1 "
                "GROUP BY table_name, index_name")
            return {f"{t}.{i}": cols for t, i, cols in cur.fetchall()}
    finally:
        conn.close()


def _my_align(db: Db, mine: dict[str, str], theirs: dict[str, str], drops: list[str],
              adds: list[str]) -> list[str]:
    added = [name for name in theirs if name not in mine]
    statements = []
    for name in drops:
        table, index = name.split(".", 1)
        statements.append(f"DROP INDEX `{index}` ON `{table}`")
    for name in added:
        table, index = name.split(".", 1)
        statements.append(f"CREATE INDEX `{index}` ON `{table}` ({theirs[name]})")
    done: list[str] = []
    for sql in statements:
        try:  # an index a foreign key needs cannot go; leave it, and say so
            _my_execute(sql, dbname=db.name)
            done.append(sql)
        except Exception as exc:
            done.append(f"kept ({type(exc).__name__}): {sql}")
    return done
