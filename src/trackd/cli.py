"""The ``trackd`` command: ``server``, ``db upgrade``, ``db current``.

Flags and their environment variables mirror ``mlflow server`` / ``mlflow db`` so that a
platform's recipe for MLflow runs trackd unchanged.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

import click

from trackd import __version__
from trackd.config import ConfigError, Settings, normalize_static_prefix, settings_from_env

log = logging.getLogger("trackd")


def _fail(message: str) -> None:
    click.echo(f"trackd: {message}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(__version__, prog_name="trackd")
def main() -> None:
    """trackd: a fast experiment-tracking server that speaks MLflow."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--backend-store-uri", help="SQLAlchemy URL of the backend store "
              "[env MLFLOW_BACKEND_STORE_URI; default sqlite:///mlflow.db].")
@click.option("--default-artifact-root", help="Root for new experiments' artifacts "
              "[env MLFLOW_DEFAULT_ARTIFACT_ROOT or MLFLOW_DEFAULT_ARTIFACTORY_ROOT].")
@click.option("--artifacts-destination", help="Store behind mlflow-artifacts:/ "
              "[env MLFLOW_ARTIFACTS_DESTINATION; default ./mlartifacts].")
@click.option("--serve-artifacts/--no-serve-artifacts", default=None,
              help="Proxy artifact transfers through this server [env MLFLOW_SERVE_ARTIFACTS; "
              "default on].")
@click.option("-h", "--host", help="Address to listen on [env MLFLOW_HOST; default 127.0.0.1].")
@click.option("-p", "--port", type=int, help="Port [env MLFLOW_PORT; default 5000].")
@click.option("-w", "--workers", type=int, help="Worker processes [env MLFLOW_WORKERS; default 1].")
@click.option("--static-prefix", help="Path prefix for every route, e.g. /app/p1/5000 "
              "[env MLFLOW_STATIC_PREFIX].")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request.")
def server(access_log: bool, **flags: Any) -> None:
    """Run the tracking server."""
    try:
        settings = settings_from_env()
        if flags.get("static_prefix") is not None:
            flags["static_prefix"] = normalize_static_prefix(flags["static_prefix"])
        settings = settings.with_overrides(**flags)
    except ConfigError as exc:
        _fail(str(exc))
    run_server(settings, access_log=access_log)


def run_server(settings: Settings, *, access_log: bool = False) -> None:
    import uvicorn

    from trackd.app import create_app
    from trackd.store.schema import SchemaError

    try:
        # Built here first even with several workers: schema problems stop the command
        # before any worker starts, with the message on the terminal.
        app = create_app(settings)
    except SchemaError as exc:
        _fail(str(exc))
        return
    except ConfigError as exc:
        _fail(str(exc))
        return
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": access_log,
        "log_level": "info",
        "proxy_headers": True,
        "forwarded_allow_ips": "*",
        "timeout_keep_alive": 120,
    }
    log.info("trackd %s serving %s on http://%s:%d%s", __version__,
             _redacted(settings.backend_store_uri), settings.host, settings.port,
             settings.static_prefix or "/")
    if settings.workers <= 1:
        uvicorn.run(app, **options)
        return
    app.services.db.close()
    config = uvicorn.Config(
        functools.partial(_worker_app, settings), factory=True, workers=settings.workers,
        **options,
    )
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()


def _worker_app(settings: Settings) -> Any:
    from trackd.app import create_app

    return create_app(settings)


def _redacted(url: str) -> str:
    from trackd.store.urls import redact

    return redact(url)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@click.argument("url")
def upgrade(url: str) -> None:
    """Create MLflow's schema on an empty database, or add trackd's indexes to a current one."""
    from trackd.store import schema
    from trackd.store.database import Database

    database = Database(url)
    try:
        click.echo(schema.upgrade(database.engine))
    except schema.SchemaError as exc:
        _fail(str(exc))
    finally:
        database.close()


@db.command()
@click.argument("url")
def current(url: str) -> None:
    """Print the database's schema revision and whether trackd can serve it."""
    from trackd.store import schema
    from trackd.store.database import Database

    database = Database(url)
    try:
        state = schema.inspect_schema(database.engine)
    finally:
        database.close()
    click.echo(f"{state.found or '(none)'} {state.kind} (trackd serves {schema.HEAD})")
