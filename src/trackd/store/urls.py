"""Database URLs as users write them, resolved to the drivers trackd is tested with.

trackd runs its hot statements on the driver's own cursor (:mod:`trackd.store.prepared`:
PostgreSQL array parameters, binary row fetches, executemany rewriting), so the driver is part
of what is tested, not an interchangeable detail. Per server database:

=====================================  ===========================  ===========================
URL                                    driver                       tested
=====================================  ===========================  ===========================
``postgresql://``, ``+psycopg``        psycopg 3 (a dependency)     the whole suite
``postgresql+psycopg2://``             psycopg2 (``[psycopg2]``)    a slice (scripts/test)
``mysql://``, ``mariadb://``,          PyMySQL (a dependency)       the whole suite
``+pymysql``
``mysql+mysqldb://``,                  mysqlclient                  a slice (scripts/test)
``mariadb+mysqldb://``                 (``[mysqlclient]``)
=====================================  ===========================  ===========================

SQLAlchemy reads the bare schemes as psycopg2 and mysqlclient, and MLflow images often have
those installed; trackd used to follow that when they were importable, which made the driver
depend on whatever else an image carried (and psycopg2 failed on the first metric history).
A bare scheme now always means the bundled driver; the classic ones are taken only when named.
Any other driver (pg8000, asyncpg, mysqlconnector, mariadbconnector...) is refused at start:
it would connect, then fail, or misbehave, on the first statement that leans on the driver.
"""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

from sqlalchemy.engine import URL, make_url


class DriverError(ValueError):
    """A URL naming a driver trackd does not support, or one that is not installed. The CLI
    says which database it was about (trackd.preflight.explain) and exits."""


class _Driver(NamedTuple):
    module: str  # what to import
    project: str  # what people call it
    install: str  # what to pip install


_PSYCOPG = _Driver("psycopg", "psycopg 3", "trackd")
_PYMYSQL = _Driver("pymysql", "PyMySQL", "trackd")
# backend -> (bundled driver, classic driver's name in URLs, {driver name in URLs: driver})
_DRIVERS: dict[str, tuple[str, str, dict[str, _Driver]]] = {
    "postgresql": ("psycopg", "psycopg2", {
        "psycopg": _PSYCOPG,
        "psycopg2": _Driver("psycopg2", "psycopg2", "'trackd[psycopg2]'"),
    }),
    "mysql": ("pymysql", "mysqldb", {
        "pymysql": _PYMYSQL,
        "mysqldb": _Driver("MySQLdb", "mysqlclient", "'trackd[mysqlclient]'"),
    }),
}
_DRIVERS["mariadb"] = _DRIVERS["mysql"]


def normalize_database_url(url: str) -> str:
    """``url`` with the driver trackd uses spelled out (and MySQL's charset set); DriverError
    for a driver trackd does not support or a named driver that is not installed."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in _DRIVERS:
        parsed = parsed.set(drivername=f"{backend}+{_driver(parsed, backend)}")
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        # MLflow's tables hold any Unicode text; the default MySQL charset does not.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def _driver(parsed: URL, backend: str) -> str:
    bundled, _classic, supported = _DRIVERS[backend]
    named = parsed.get_driver_name() if "+" in parsed.drivername else None
    if named is None:
        return bundled
    if named not in supported:
        choices = ", ".join(f"{backend}+{name}://" for name in supported)
        raise DriverError(
            f"{backend}+{named}:// is not a driver trackd supports (it runs statements on the "
            f"driver's own cursor, and is tested with: {backend}:// (the bundled "
            f"{supported[bundled].project}), {choices})"
        )
    driver = supported[named]
    if importlib.util.find_spec(driver.module) is None:
        raise DriverError(
            f"{backend}+{named}:// needs {driver.project}, which is not installed: pip install "
            f"{driver.install}, or write {backend}:// for the bundled {supported[bundled].project}"
        )
    return named


def classic_driver_hint(url: str) -> str | None:
    """For the start-up log: a bare scheme runs on the bundled driver while the classic one is
    installed too (as in many MLflow images), which the URL could name; else None."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS or "+" in parsed.drivername:
        return None
    bundled, classic, supported = _DRIVERS[backend]
    if importlib.util.find_spec(supported[classic].module) is None:
        return None
    return (f"{backend}:// runs on the bundled {supported[bundled].project}; "
            f"{supported[classic].project} is installed too and is used when the URL names it "
            f"({backend}+{classic}://): see docs/operations.md, 'Database drivers'")


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True) if url else ""
