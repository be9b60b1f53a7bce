"""What a newcomer meets first: start-up checks and one-line explanations of failures.

Three jobs, all before the server answers its first request:

* :func:`explain` turns a configuration or connection failure (a bad database URL, a refused
  port, a missing database, an SQLite file in a missing folder...) into at most two lines: what
  failed with the URL's password masked, the driver's own words, and what to check. The CLI
  prints those instead of a 50-line SQLAlchemy traceback; ``--debug`` brings the traceback back.
* :func:`prove_writable` creates a local artifact destination (and a local default artifact
  root) and proves it writable (called by the local store's start-up check), so that a server
  that cannot store artifacts does not start rather than fail on the first upload.
* :func:`bind` takes the listening port before anything is written (the SQLite file, the
  schema), so that "address already in use" leaves nothing behind.

Kept apart from the start-up imports of the store and the API, which are tuned for speed.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import tempfile
from typing import Any

from trackd.config import ConfigError

# Patterns in a driver's message -> what the person should check. First match wins; the
# patterns cover psycopg 3, psycopg2, PyMySQL, mysqlclient and sqlite3 wordings.
_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"unable to open database file", re.I),
     "check that the folder of the SQLite file exists and is writable"),
    (re.compile(r"does not exist|unknown database", re.I),
     "create the database first (PostgreSQL: createdb NAME; MySQL: CREATE DATABASE NAME)"),
    (re.compile(r"password authentication failed|access denied|authentication failed|"
                r"no password supplied|role .* does not exist", re.I),
     "check the user name and password in the URL"),
    (re.compile(r"connection refused|can't connect|could not connect|timed out|timeout|"
                r"no route to host|network is unreachable|name or service not known|"
                r"nodename nor servname|could not translate host name|"
                r"temporary failure in name resolution|getaddrinfo failed", re.I),
     "check that the database server is running and reachable at the URL's host and port"),
]
_URL_HINT = ("a backend store URI looks like sqlite:///path/to/mlflow.db or "
             "postgresql://user:password@host:5432/database")


def _one_line(text: str) -> str:
    """A driver message on one line: psycopg spreads its reasons over several."""
    return re.sub(r"\s+", " ", text).strip()


def _mask(text: str, url: str | None) -> str:
    """``text`` with the URL's password, if any, replaced by ***."""
    if not url:
        return text
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
    except Exception:  # an unparseable URL: hide anything between "://user:" and "@"
        return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return text.replace(str(password), "***") if password else text


def _shown_url(url: str) -> str:
    from trackd.store.urls import redact

    try:
        return redact(url)
    except Exception:
        return _mask(url, url)


def _driver_message(exc: BaseException) -> str:
    """The driver's own words: DBAPIError.orig, else the exception text without SQLAlchemy's
    trailing '(Background on this error at: ...)' link."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    text = re.sub(r"\(Background on this error at:.*?\)", "", text, flags=re.S)
    text = _one_line(text)
    # PyMySQL answers with a tuple: (2003, "Can't connect to MySQL server on ...").
    match = re.fullmatch(r"\((\d+), [\"'](.*)[\"']\)", text)
    return match.group(2) if match else text


def explain(exc: BaseException, url: str | None = None,
            what: str = "the backend store") -> str | None:
    """Two lines at most saying what went wrong and what to check, or None when ``exc`` is
    not a configuration or connection problem (the caller then shows the traceback)."""
    from sqlalchemy import exc as sa_exc

    from trackd.errors import MlflowError
    from trackd.store.schema import SchemaError
    from trackd.store.urls import DriverError

    if isinstance(exc, (ConfigError, SchemaError)):
        return _mask(str(exc), url)
    if isinstance(exc, MlflowError) and isinstance(exc.__cause__, sa_exc.DBAPIError):
        exc = exc.__cause__  # the store's "temporarily unavailable" wrapper: its cause
    where = f"{what} {_shown_url(url)}" if url else "the database"
    if isinstance(exc, DriverError):
        return f"trackd: cannot use {where}: {_mask(str(exc), url)}"
    if isinstance(exc, sa_exc.NoSuchModuleError):
        scheme = (url or "").split(":", 1)[0]
        return (f"trackd: cannot use {where}: no database driver for '{scheme}'\n"
                "trackd: use sqlite://, postgresql://, mysql:// or mssql+pyodbc://")
    if isinstance(exc, sa_exc.ArgumentError):
        return (f"trackd: cannot use {where}: {_mask(_driver_message(exc), url)}\n"
                f"trackd: {_URL_HINT}")
    if isinstance(exc, (sa_exc.DBAPIError, sa_exc.InterfaceError)):
        message = _mask(_driver_message(exc), url)
        hint = next((h for pattern, h in _HINTS if pattern.search(message)),
                    "check the URL, the database server and its logs")
        folder = _sqlite_folder(url)
        if folder and "SQLite" in hint:
            hint = (f"{folder} is a file, not a folder" if os.path.isfile(folder)
                    else f"check that the folder {folder} exists and is writable")
        return f"trackd: cannot connect to {where}: {message}\ntrackd: {hint}"
    option = _unknown_url_option(exc, url)
    if option is not None:
        return (f"trackd: cannot use {where}: its driver takes no option '{option}'\n"
                f"trackd: {_OPTION_HINT}")
    if isinstance(exc, ImportError) and url is not None:
        # A driver named in the URL that is not installed (mssql+pyodbc://; PostgreSQL and
        # MySQL drivers are checked before connecting: trackd.store.urls.DriverError).
        return (f"trackd: cannot use {where}: {_one_line(str(exc))}\n"
                "trackd: install that driver, or drop the +driver part to use the bundled one")
    return None


# URL query options are the driver's connect() arguments; the two MySQL drivers take different
# ones, and an MLflow URL written for mysqlclient (?ssl_mode=...) reaches PyMySQL as mysql://.
_OPTION_HINT = ("URL options go to the driver: mysql:// is PyMySQL, mysql+mysqldb:// is "
                "mysqlclient (see docs/operations.md, 'Database drivers')")


def _unknown_url_option(exc: BaseException, url: str | None) -> str | None:
    """The URL query option a driver's connect() refused (TypeError), else None."""
    if not isinstance(exc, TypeError) or not url:
        return None
    match = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
    if match is None:
        return None
    from sqlalchemy.engine import make_url

    return match.group(1) if match.group(1) in make_url(url).query else None


def _sqlite_folder(url: str | None) -> str | None:
    """The folder of an SQLite file URL, to name it in the hint."""
    if not url or not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return os.path.dirname(os.path.abspath(database))


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of an SQLite database file, as ``mlflow server`` and ``mlflow db
    upgrade`` do, so that a platform recipe naming ``sqlite:////data/mlflow/mlflow.db`` works
    on a fresh volume; ConfigError naming the folder when it cannot be made."""
    try:
        folder = _sqlite_folder(url)
    except Exception:
        return  # not a URL at all: opening it says so, in its own words
    if folder is None or os.path.isdir(folder):
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the folder {folder} of the SQLite database "
                          f"{url}: {reason_of(exc)}") from exc


# --------------------------------------------------------------------------- artifacts

def reason_of(exc: OSError) -> str:
    """Why a folder cannot be used, in words (the errno name alone says little)."""
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return "a file is in the way (the path or one of its parents is not a folder)"
    return exc.strerror or str(exc)


def prove_writable(path: str) -> None:
    """Create the folder ``path`` if missing and write, then remove, a file in it; OSError
    when either fails. Used by the local artifact store's start-up check."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
    os.makedirs(path, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=path, prefix=".trackd-write-check-")
    try:
        os.write(fd, b"ok")
    finally:
        os.close(fd)
        os.unlink(probe)


# --------------------------------------------------------------------------- the port

def bind(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) and ready for uvicorn, or ConfigError saying why not."""
    # As uvicorn chooses: IPv6 only for an IPv6 literal, so that "localhost" means 127.0.0.1
    # (getaddrinfo may list ::1 first).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror}); "
                          "check --host") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a restart may take the port while old connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            hint = "another server is using it; stop it or choose another --port"
        elif exc.errno == errno.EACCES:
            hint = "ports below 1024 need privileges; choose another --port"
        elif exc.errno == errno.EADDRNOTAVAIL:
            hint = "this machine has no such address; check --host"
        else:
            hint = "check --host and --port"
        raise ConfigError(f"cannot listen on {host}:{port}: {(exc.strerror or str(exc)).lower()}"
                          f" ({hint})") from exc
    sock.set_inheritable(True)  # worker processes serve this very socket
    return sock


def debug_requested(argv: list[str], environ: Any = os.environ) -> bool:
    """--debug anywhere on the command line, or TRACKD_DEBUG set: show tracebacks."""
    return "--debug" in argv or str(environ.get("TRACKD_DEBUG", "")).lower() in (
        "1", "true", "yes", "on")
