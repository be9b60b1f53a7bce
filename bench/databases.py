"""Fresh databases for each server and run, and the clone used for mlflow's search phase.

SQLite databases are files in the run's work directory; PostgreSQL ones are created on
127.0.0.1:5432 (trust auth, user root) and MariaDB ones on 127.0.0.1:3306 (root, no password)
as ``bench_<server>``, dropped first if a previous run left them behind.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN = "host=127.0.0.1 port=5432 user=root dbname=postgres"
PG_HOST = "root@127.0.0.1:5432"
MYSQL_HOST = "root@127.0.0.1:3306"
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
        if self.backend == "mysql":
            return f"mysql+pymysql://{MYSQL_HOST}/{self.name}"
        return f"postgresql+psycopg://{PG_HOST}/{self.name}"

    def fasttrackml_url(self) -> str:
        # FastTrackML's own spelling: sqlite://<path> (an absolute path brings its own slash).
        if self.backend == "sqlite":
            return f"sqlite://{self.path}"
        return f"postgres://{PG_HOST}/{self.name}?sslmode=disable"


def _pg_admin():  # imported late: only PostgreSQL runs need psycopg
    import psycopg

    return psycopg.connect(PG_ADMIN, autocommit=True)


def _mysql_admin():  # imported late: only MariaDB runs need pymysql
    import pymysql

    return pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)


def fresh(backend: str, name: str, workdir: Path) -> Db:
    if backend == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return Db(backend, name, path)
    dbname = f"bench_{name.replace('-', '_')}"
    if backend == "mysql":
        with _mysql_admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{dbname}`")
            cur.execute(f"CREATE DATABASE `{dbname}`")  # the server's defaults, as tests use
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
        with _mysql_admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
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
    dbname = f"bench_{name.replace('-', '_')}"
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{source.name}"')
    return Db("postgresql", dbname)


def _indexes(db: Db) -> dict[str, str]:
    """Index name → the statement that creates it (constraint-backed indexes left out)."""
    if db.backend == "sqlite":
        lite = sqlite3.connect(str(db.path))
        rows = lite.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        lite.close()
        return dict(rows)
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
