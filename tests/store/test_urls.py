"""Which driver a database URL gets: the bundled one for a bare scheme, whatever else is
installed; a classic one only when named; any other driver refused at start."""

from __future__ import annotations

import importlib.util

import pytest

from trackd.store import urls
from trackd.store.urls import DriverError, classic_driver_hint, normalize_database_url


@pytest.fixture
def classic_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg2 and MySQLdb importable, as in many MLflow images (without installing them)."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        if name in ("psycopg2", "MySQLdb"):
            return object()
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(urls.importlib.util, "find_spec", find_spec)


@pytest.fixture
def classic_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        if name in ("psycopg2", "MySQLdb"):
            return None
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(urls.importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize("installed", ["classic_installed", "classic_missing"])
@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u:pw@db:5432/mlflow", "postgresql+psycopg://u:pw@db:5432/mlflow"),
    ("mysql://u:pw@db/mlflow", "mysql+pymysql://u:pw@db/mlflow?charset=utf8mb4"),
    ("mariadb://u@db/mlflow", "mariadb+pymysql://u@db/mlflow?charset=utf8mb4"),
])
def test_a_bare_scheme_always_gets_the_bundled_driver(
    request: pytest.FixtureRequest, installed: str, url: str, expected: str
) -> None:
    # psycopg2 / mysqlclient in the image used to take over the bare schemes, untested.
    request.getfixturevalue(installed)
    assert normalize_database_url(url) == expected


@pytest.mark.usefixtures("classic_installed")
@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql+psycopg2://u@db/m", "postgresql+psycopg2://u@db/m"),
    ("postgresql+psycopg://u@db/m", "postgresql+psycopg://u@db/m"),
    ("mysql+mysqldb://u@db/m", "mysql+mysqldb://u@db/m?charset=utf8mb4"),
    ("mariadb+mysqldb://u@db/m?charset=utf8", "mariadb+mysqldb://u@db/m?charset=utf8"),
    ("mysql+pymysql://u@db/m", "mysql+pymysql://u@db/m?charset=utf8mb4"),
])
def test_a_named_supported_driver_is_kept(url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql+pg8000://u@db/m", ["postgresql+pg8000://", "postgresql+psycopg2://"]),
    ("postgresql+asyncpg://u@db/m", ["postgresql+asyncpg://", "the bundled psycopg 3"]),
    ("mysql+mysqlconnector://u@db/m", ["mysql+mysqlconnector://", "mysql+mysqldb://"]),
    ("mariadb+mariadbconnector://u@db/m", ["mariadb+mariadbconnector://", "mariadb+pymysql://"]),
])
def test_an_untested_driver_is_refused(url: str, words: list[str]) -> None:
    with pytest.raises(DriverError) as caught:
        normalize_database_url(url)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.usefixtures("classic_missing")
@pytest.mark.parametrize(("url", "words"), [
    ("postgresql+psycopg2://u@db/m", ["pip install 'trackd[psycopg2]'", "postgresql://"]),
    ("mysql+mysqldb://u@db/m", ["needs mysqlclient", "pip install 'trackd[mysqlclient]'",
                                "bundled PyMySQL"]),
])
def test_a_named_driver_that_is_missing_says_what_to_install(url: str, words: list[str]) -> None:
    with pytest.raises(DriverError) as caught:
        normalize_database_url(url)
    for word in words:
        assert word in str(caught.value)


def test_the_start_up_log_says_a_classic_driver_is_there_to_be_named(
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("classic_installed")
    assert "mysql+mysqldb://" in (classic_driver_hint("mysql://u@db/m") or "")
    assert "postgresql+psycopg2://" in (classic_driver_hint("postgresql://u@db/m") or "")
    assert classic_driver_hint("mysql+pymysql://u@db/m") is None
    assert classic_driver_hint("sqlite:///x.db") is None


@pytest.mark.usefixtures("classic_missing")
def test_no_hint_without_a_classic_driver() -> None:
    assert classic_driver_hint("mysql://u@db/m") is None


def test_sqlite_and_sql_server_urls_pass_through() -> None:
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_database_url("mssql+pyodbc://u@dsn") == "mssql+pyodbc://u@dsn"
