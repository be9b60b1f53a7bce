"""Database URLs as users write them, made to work with the drivers trackd ships.

MLflow users write ``postgresql://`` and ``mysql://``; SQLAlchemy reads those as psycopg2 and
mysqlclient, which need system libraries to build. trackd depends on ``psycopg`` (3) and
``PyMySQL`` instead, and routes the bare schemes to them unless the user installed the
classic driver or named a driver explicitly (``postgresql+psycopg2://``).
"""

from __future__ import annotations

import importlib.util

from sqlalchemy.engine import URL, make_url

_FALLBACK_DRIVER = {
    # bare scheme -> (module of SQLAlchemy's default driver, driver trackd ships)
    "postgresql": ("psycopg2", "psycopg"),
    "mysql": ("MySQLdb", "pymysql"),
    "mariadb": ("MySQLdb", "pymysql"),
}


def normalize_database_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in _FALLBACK_DRIVER:
        default_module, shipped = _FALLBACK_DRIVER[parsed.drivername]
        if importlib.util.find_spec(default_module) is None:
            parsed = parsed.set(drivername=f"{parsed.drivername}+{shipped}")
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        # MLflow's tables hold any Unicode text; the default MySQL charset does not.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True) if url else ""
