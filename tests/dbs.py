"""Brand-new empty databases for tests, one per call, on every backend trackd supports here.

    with fresh_database("postgresql", tmp_path) as url:
        engine = sqlalchemy.create_engine(url)
        ...
        engine.dispose()

PostgreSQL and MariaDB run on the development machines (see DESIGN §5): a database named
``trackd_<random>`` is created through the server's ``test`` database and dropped afterwards, so
tests never share state and can run in parallel.

``TRACKD_TEST_DRIVERS`` (e.g. ``postgresql=psycopg2,mysql=mysqldb``) names the driver in the
URLs handed to tests instead of the bundled psycopg 3 / PyMySQL: the suite's way to cover the
optional classic drivers (scripts/test runs a slice of it that way). The admin connections that
create and drop databases keep the bundled drivers.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

DB_KINDS = ("sqlite", "postgresql", "mysql")

# Admin connections go through the always-present `test` database.
_ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://root@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}
_DB_URLS = {
    "postgresql": "postgresql+{driver}://root@127.0.0.1:5432/{name}",
    "mysql": "mysql+{driver}://root@127.0.0.1:3306/{name}",
}
_BUNDLED_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql"}


def url_drivers() -> dict[str, str]:
    """The driver of each server database kind for the URLs tests get (TRACKD_TEST_DRIVERS)."""
    drivers = dict(_BUNDLED_DRIVERS)
    for item in os.environ.get("TRACKD_TEST_DRIVERS", "").split(","):
        if not item.strip():
            continue
        kind, sep, driver = item.strip().partition("=")
        if not sep or kind not in drivers or not driver:
            raise ValueError(f"TRACKD_TEST_DRIVERS: expected kind=driver with kind in "
                             f"{tuple(drivers)}, got {item!r}")
        drivers[kind] = driver
    return drivers


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new, empty database of ``kind``; drop it on exit."""
    if kind == "sqlite":
        path = Path(tmp_path) / f"trackd_{secrets.token_hex(4)}.db"
        yield f"sqlite:///{path}"
        return
    if kind not in _ADMIN_URLS:
        raise ValueError(f"unknown database kind {kind!r}; expected one of {DB_KINDS}")
    name = f"trackd_{secrets.token_hex(6)}"
    _admin(kind, f"CREATE DATABASE {name}")
    try:
        yield _DB_URLS[kind].format(driver=url_drivers()[kind], name=name)
    finally:
        # FORCE ends sessions a test forgot to close, so one leak cannot wedge the cleanup.
        drop = f"DROP DATABASE IF EXISTS {name}"
        _admin(kind, drop + (" WITH (FORCE)" if kind == "postgresql" else ""))


def _admin(kind: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction on PostgreSQL.
    engine = sa.create_engine(_ADMIN_URLS[kind], isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()
